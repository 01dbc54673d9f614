"""The Python side of src/model/hf-python.test.ts (run by it; not part of a model directory).

    check_remote.py hash-tables VOCAB SPECS.json OUTDIR   each spec's (V, dim) float32 table -> OUTDIR/i.bin
    check_remote.py logits JOBS.json    one JSON line per job: the logits of a model for fed token ids
    check_remote.py tokens DIR TEXTS.json                  transformers' tokenizer of DIR: ids per text (JSON)
    check_remote.py train DIR OUT HEAD TEXTS.json           a few AdamW steps in PyTorch (HEAD: sequence or
                                                           masked_lm), then save_pretrained of model and tokenizer

JOBS.json: a list of {"dir": DIR, "head": "sequence" | "masked_lm" | "base", "trust": bool,
"input_ids": [[...]], "token_type_ids": [[...]], "attention_mask": [[...]], "positions": [[row, col], ...]
(masked_lm)}, run in one process (torch and transformers are imported once). Each job prints
{"logits": [[...]], "class": NAME} (masked_lm: the rows at `positions`; base: the [CLS] hidden state), or
{"refused": "<the error>"} when transformers will not load the model.
"""

import json
import os
import sys


def hash_tables(vocab_path, specs_path, out_dir):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from python.modeling_minnow import hash_embedding_table, read_vocab_txt

    vocab = read_vocab_txt(vocab_path)
    with open(specs_path, encoding="utf-8") as f:
        specs = json.load(f)
    for i, spec in enumerate(specs):
        hash_embedding_table(vocab, spec["dim"], spec["config"]).tofile(os.path.join(out_dir, f"{i}.bin"))


def logits(jobs_path):
    import transformers

    transformers.logging.set_verbosity_error()
    with open(jobs_path, encoding="utf-8") as f:
        for job in json.load(f):
            print(json.dumps(run_job(job)), flush=True)


def run_job(x):
    import torch
    import transformers

    auto = {
        "sequence": transformers.AutoModelForSequenceClassification,
        "masked_lm": transformers.AutoModelForMaskedLM,
        "base": transformers.AutoModel,
    }[x["head"]]
    try:
        model = auto.from_pretrained(x["dir"], trust_remote_code=x["trust"])
    except Exception as e:  # what a user sees when transformers will not load the directory
        return {"refused": f"{type(e).__name__}: {e}"}
    model.eval()
    feeds = {k: torch.tensor(x[k], dtype=torch.long) for k in ("input_ids", "token_type_ids", "attention_mask")}
    with torch.no_grad():
        out = model(**feeds)
    if x["head"] == "sequence":
        rows = out.logits
    elif x["head"] == "masked_lm":
        rows = torch.stack([out.logits[r, c] for r, c in x["positions"]])
    else:
        rows = out.last_hidden_state[:, 0]
    return {"logits": rows.double().tolist(), "class": type(model).__name__}


def tokens(model_dir, texts_path):
    import transformers

    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    tok = transformers.AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True)
    print(json.dumps([tok(t)["input_ids"] for t in texts]))


def train(model_dir, out, head, texts_path):
    """Train DIR further in PyTorch (labels: alternating classes; masked LM: every real token) and save it."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    torch.manual_seed(0)
    auto = transformers.AutoModelForSequenceClassification if head == "sequence" else transformers.AutoModelForMaskedLM
    model = auto.from_pretrained(model_dir, trust_remote_code=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True)
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    if head == "sequence":
        labels = torch.arange(len(texts)) % model.config.num_labels
    else:
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for _ in range(3):
        model(**enc, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"hash-tables": hash_tables, "logits": logits, "tokens": tokens, "train": train}[command](*args)
