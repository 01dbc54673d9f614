"""Does a decision threshold picked on CoLA's training rows raise dev MCC for a bag of n-grams?

scikit-learn's TF-IDF (word 1-2-grams + character 2-5-grams, sublinear) and logistic regression for
C in 1, 3, 10: the threshold that maximises MCC on 5-fold cross-validated training probabilities (folds
in file order, as scikit-learn's StratifiedKFold makes them without shuffling), applied to dev, beside
dev MCC at 0.5 and at the best threshold for dev itself (which no honest run can pick).
Result and reading: docs/baseline-and-fit.md, "Tried and not kept".

Run: python3 scripts/cola-threshold.py GLUE/CoLA   (needs numpy, scipy, scikit-learn; says so without them)
"""
import csv
import sys

try:
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import matthews_corrcoef
    from sklearn.model_selection import cross_val_predict
except ImportError as e:
    sys.exit(f"cola-threshold: needs numpy, scipy and scikit-learn ({e})")


def read(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(row[3])
            labels.append(int(row[1]))
    return texts, np.array(labels)


def main(glue):
    train_x, train_y = read(f"{glue}/train.tsv")
    dev_x, dev_y = read(f"{glue}/dev.tsv")
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b|[^\w\s]")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    a = hstack([words.fit_transform(train_x), chars.fit_transform(train_x)]).tocsr()
    d = hstack([words.transform(dev_x), chars.transform(dev_x)]).tocsr()
    grid = np.linspace(0.3, 0.9, 61)
    mcc = lambda y, p, t: 100 * matthews_corrcoef(y, (p > t).astype(int))
    print("| C | dev MCC at 0.5 | threshold from the training folds | folds' MCC there | dev MCC there | best dev MCC (any threshold) |")
    print("|---|---|---|---|---|---|")
    for c in (1, 3, 10):
        lr = LogisticRegression(C=c, max_iter=2000)
        folds = cross_val_predict(lr, a, train_y, cv=5, method="predict_proba")[:, 1]
        on_folds = [mcc(train_y, folds, t) for t in grid]
        t = grid[int(np.argmax(on_folds))]
        p = lr.fit(a, train_y).predict_proba(d)[:, 1]
        best = max(mcc(dev_y, p, u) for u in grid)
        print(f"| {c} | {mcc(dev_y, p, 0.5):.2f} | {t:.2f} | {max(on_folds):.2f} | {mcc(dev_y, p, t):.2f} | {best:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 scripts/cola-threshold.py GLUE/CoLA")
    main(sys.argv[1])
