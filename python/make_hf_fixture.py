"""A tiny BertForSequenceClassification and its tokenizer, written by transformers' own save_pretrained.

    make_hf_fixture.py OUT [--vocab VOCAB] [--cased] [--labels N] [--texts TEXTS.json]

OUT gets what transformers writes (5.x: config.json, model.safetensors, tokenizer.json,
tokenizer_config.json and no vocab.txt; 4.x adds vocab.txt) and OUT.expected.json beside it: the
transformers version, and for each text its input_ids and logits (float64 of the float32 logits).
Without --vocab the vocabulary is a small built-in one (the committed fixture test/fixtures/hf5-classifier
is this script's output under transformers 5.18, torch 2.13, seed 0). src/cli/hf-dirs.test.ts runs it when
a Python with transformers is found, and reads the committed output when not.
"""

import argparse
import json
import os
import tempfile

import torch
import transformers

TEXTS = [
    "a gorgeous, witty, seductive movie.",
    "The Film is NOT good!",
    "naïve café owners",
    "it's a dull, dull film",
    "unseen words: zyzzyva",
]

SMALL_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list(".,!'-:")
    + list("abcdefghijklmnopqrstuvwxyz")
    + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    + "the is it film movie good not dull gorgeous witty seductive words unseen owners cafe naive".split()
    + ["##ing", "##ed", "##ly"]
)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--vocab")
    p.add_argument("--cased", action="store_true")
    p.add_argument("--labels", type=int, default=3)
    p.add_argument("--texts")
    a = p.parse_args()
    texts = TEXTS
    if a.texts:
        with open(a.texts, encoding="utf-8") as f:
            texts = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = a.vocab
        if not vocab_file:
            vocab_file = os.path.join(tmp, "vocab.txt")
            with open(vocab_file, "w", encoding="utf-8") as f:
                f.write("\n".join(SMALL_VOCAB) + "\n")
        if int(transformers.__version__.split(".")[0]) >= 5:  # 5.x takes the vocabulary as `vocab`
            with open(vocab_file, encoding="utf-8") as f:
                pieces = f.read().rstrip("\n").split("\n")
            vocab = {piece: i for i, piece in enumerate(pieces)}
            tokenizer = transformers.BertTokenizer(vocab=vocab, do_lower_case=not a.cased)
        else:
            tokenizer = transformers.BertTokenizerFast(vocab_file=vocab_file, do_lower_case=not a.cased)
        torch.manual_seed(0)
        config = transformers.BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=32,
            id2label={i: f"class_{i}" for i in range(a.labels)},
            label2id={f"class_{i}": i for i in range(a.labels)},
        )
        model = transformers.BertForSequenceClassification(config)
        with torch.no_grad():  # weights large enough that every token moves the logits (init's are tiny)
            for name, param in model.named_parameters():
                if "LayerNorm" not in name:
                    param.normal_(0, 0.5)
        model.eval()
        model.save_pretrained(a.out)
        tokenizer.save_pretrained(a.out)
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
    ids = [tokenizer(t)["input_ids"] for t in texts]
    expected = {
        "transformers": transformers.__version__,
        "texts": texts,
        "input_ids": ids,
        "logits": logits.double().tolist(),
    }
    with open(a.out.rstrip("/") + ".expected.json", "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
