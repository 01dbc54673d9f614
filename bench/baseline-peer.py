"""The peer of `minnow baseline`: scikit-learn's TF-IDF + logistic regression (ridge for STS-B) on a GLUE task.

Reads the GLUE TSV files the way minnow does (tabs, no quote character, header names; CoLA without a header;
UTF-8 BOM, CRLF and blank lines tolerated; rows with the wrong number of columns or an empty text dropped)
and numbers the labels in the same order (RTE: entailment 0, not_entailment 1). A sentence pair is one text:
the two sentences joined by a separator word, SEP below.

Two feature sets, each fitted on train with C picked on dev from the grid (the smallest C of the best dev
score, as minnow keeps it):
  word       TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
  word+char  FeatureUnion of that and TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
Classifier: LogisticRegression(C=C, max_iter=1000) (lbfgs, L2); STS-B: Ridge(alpha=1 / C).
Task score as GLUE's: accuracy; CoLA Matthews correlation; MRPC mean of F1 and accuracy; STS-B mean of
Pearson and Spearman; in percent. Seconds: featurisation (fit on train, transform of dev) and every fit
and dev prediction of the grid, not reading the files. One thread (OMP_NUM_THREADS and the BLAS
libraries' counts default to 1 here), as minnow fits on one: on a busy machine scikit-learn's OpenMP loss
threads otherwise contend for the cores and an MRPC fit takes seconds instead of a fraction of one.

Prints one JSON line per feature set. Run by bench/baseline-peer.ts.
"""
import argparse
import json
import os
import time

for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from sklearn.pipeline import FeatureUnion

SEP = " __sep__ "  # one word for the default token_pattern, seen in no GLUE text

# task: folder, header, columns without a header, text, pair, label, labels (None: a score), metrics
TASKS = {
    "sst2": ("SST-2", True, 0, "sentence", None, "label", ["0", "1"], ["accuracy"]),
    "cola": ("CoLA", False, 4, 3, None, 1, ["0", "1"], ["mcc"]),
    "mrpc": ("MRPC", True, 0, "#1 String", "#2 String", "Quality", ["0", "1"], ["f1", "accuracy"]),
    "rte": ("RTE", True, 0, "sentence1", "sentence2", "label", ["entailment", "not_entailment"], ["accuracy"]),
    "stsb": ("STS-B", True, 0, "sentence1", "sentence2", "score", None, ["pearson", "spearman"]),
}


def read(task, glue, split):
    folder, header, width, text, pair, label, labels, _ = TASKS[task]
    with open(os.path.join(glue, folder, f"{split}.tsv"), encoding="utf-8") as f:
        content = f.read()
    if content.startswith("\ufeff"):
        content = content[1:]
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in content.split("\n")]
    lines = [ln for ln in lines if ln != ""]
    if header:
        names = lines[0].split("\t")
        width = len(names)
        text, label = names.index(text), names.index(label)
        pair = names.index(pair) if pair else None
        lines = lines[1:]
    texts, ys = [], []
    for ln in lines:
        f = ln.split("\t")
        if len(f) != width or f[text].strip() == "" or (pair is not None and f[pair].strip() == ""):
            continue
        texts.append(f[text] if pair is None else f[text] + SEP + f[pair])
        ys.append(labels.index(f[label].strip()) if labels else float(f[label]))
    return texts, np.array(ys)


def metrics(names, pred, gold):
    fns = {
        "accuracy": accuracy_score,
        "f1": f1_score,
        "mcc": matthews_corrcoef,
        "pearson": lambda p, y: pearsonr(p, y)[0],
        "spearman": lambda p, y: spearmanr(p, y)[0],
    }
    return {m: float(fns[m](gold, pred) if m in ("accuracy", "f1", "mcc") else fns[m](pred, gold)) for m in names}


def vectorizer(features):
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    if features == "word":
        return word
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    return FeatureUnion([("word", word), ("char", char)])


def fit(task, features, train, dev, grid):
    names = TASKS[task][7]
    regression = TASKS[task][6] is None
    t0 = time.perf_counter()
    vec = vectorizer(features)
    x = vec.fit_transform(train[0])
    x_dev = vec.transform(dev[0])
    best, path = None, []
    for C in sorted(grid):
        model = Ridge(alpha=1 / C) if regression else LogisticRegression(C=C, max_iter=1000)
        model.fit(x, train[1])
        m = metrics(names, model.predict(x_dev), dev[1])
        score = 100 * sum(m.values()) / len(m)
        iterations = getattr(model, "n_iter_", None)
        path.append({"C": C, "score": score, "iterations": None if iterations is None else int(np.max(iterations))})
        if best is None or score > best["score"]:
            best = {"C": C, "score": score, "metrics": m}
    return {
        "task": task,
        "features": features,
        **best,
        "path": path,
        "seconds": time.perf_counter() - t0,
        "trainExamples": len(train[0]),
        "devExamples": len(dev[0]),
        "featureColumns": int(x.shape[1]),
        "featuresPerExample": x.nnz / max(1, x.shape[0]),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--glue", required=True)
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--C", default="1,3,10,30")
    p.add_argument("--features", default="word,word+char")
    a = p.parse_args()
    grid = [float(c) for c in a.C.split(",")]
    grid = [int(c) if c.is_integer() else c for c in grid]
    train, dev = read(a.task, a.glue, "train"), read(a.task, a.glue, "dev")
    system = f"scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}"
    for features in a.features.split(","):
        print(json.dumps({**fit(a.task, features, train, dev, grid), "system": system}), flush=True)


if __name__ == "__main__":
    main()
