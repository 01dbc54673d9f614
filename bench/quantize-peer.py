"""minnow's int8 against onnxruntime's own `quantize_dynamic`, on the same fp32 ONNX file.

    python3 bench/quantize-peer.py EXPORT_DIR SST2_DEV_TSV [--threads 1] [--reps 3]

EXPORT_DIR is a `minnow export --quantize int8` folder of an SST-2 classifier: its onnx/model.onnx (fp32,
portable) is quantised by onnxruntime.quantization.quantize_dynamic (QInt8 weights, the settings
transformers.js's scripts/quantize.py uses), and the three files are compared on the dev sentences:
size, accuracy, agreement with fp32 and batch-1 latency (tokenisation excluded; medians of --reps passes).
Prints a table and writes bench/out/quantize-peer.json. Exits 0 with a "skipped" line when Python's
onnxruntime, onnx or tokenizers is not installed (it is never needed by minnow itself).
"""

import json
import os
import statistics
import sys
import tempfile
import time


def main() -> int:
    try:
        import numpy as np
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from tokenizers import Tokenizer
    except ImportError as e:
        print(f"quantize-peer: skipped ({e.name} is not installed in this Python)")
        return 0

    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    folder, dev = args[0], args[1]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    reps = int(args[args.index("--reps") + 1]) if "--reps" in args else 3

    fp32 = os.path.join(folder, "onnx", "model.onnx")
    mine = os.path.join(folder, "onnx", "model_quantized.onnx")
    peer = os.path.join(tempfile.mkdtemp(), "model_quantize_dynamic.onnx")
    quantize_dynamic(fp32, peer, weight_type=QuantType.QInt8, extra_options={"MatMulConstBOnly": True})

    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    rows = [line.rstrip("\n").split("\t") for line in open(dev, encoding="utf-8")][1:]
    texts, gold = [r[0] for r in rows], [int(r[1]) for r in rows]
    encoded = [tok.encode(t) for t in texts]

    def feeds(e):
        ids = np.array([e.ids], dtype=np.int64)
        return {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.array([e.type_ids], dtype=np.int64),
        }

    results = {}
    preds_fp32 = None
    for name, path in [("fp32", fp32), ("minnow int8", mine), ("quantize_dynamic int8", peer)]:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        preds, times = [], []
        for rep in range(reps):
            t0 = time.perf_counter()
            out = [int(np.argmax(s.run(["logits"], feeds(e))[0][0])) for e in encoded]
            times.append((time.perf_counter() - t0) / len(encoded) * 1000)
            preds = out
        ops = sorted({n.op_type for n in __import__("onnx").load(path).graph.node})
        acc = sum(p == g for p, g in zip(preds, gold)) / len(gold)
        if preds_fp32 is None:
            preds_fp32 = preds
        results[name] = {
            "file": os.path.basename(path),
            "bytes": os.path.getsize(path),
            "accuracy": acc,
            "agree_with_fp32": sum(a == b for a, b in zip(preds, preds_fp32)) / len(preds),
            "ms_per_sentence_median": statistics.median(times),
            "quantised_ops": [o for o in ops if "Integer" in o or "Quant" in o or o.startswith("Q")],
        }

    print(f"| model | bytes | SST-2 dev acc | agree with fp32 | ms/sentence, batch 1, {threads} thread(s) | int8 ops |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['bytes']:,} | {100 * r['accuracy']:.2f} | {100 * r['agree_with_fp32']:.1f}% "
            f"| {r['ms_per_sentence_median']:.3f} | {', '.join(r['quantised_ops']) or '-'} |"
        )
    os.makedirs("bench/out", exist_ok=True)
    with open("bench/out/quantize-peer.json", "w") as f:
        json.dump({"folder": folder, "threads": threads, "reps": reps, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
