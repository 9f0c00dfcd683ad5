"""Benchmark metrics, all scikit-learn calls: weighted-F1 (MELD, EmoryNLP, IEMOCAP), macro-F1 (GoEmotions,
ISEAR), micro-F1 without the neutral class (DailyDialog), micro-F1 over happy/sad/angry (EmoContext)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

# benchmark -> (name of the headline metric, labels excluded from the micro-F1 variant)
HEADLINE = {
    "meld": "weighted_f1",
    "emorynlp": "weighted_f1",
    "iemocap": "weighted_f1",
    "goemotions": "macro_f1",
    "isear": "macro_f1",
    "dailydialog": "micro_f1_without_neutral",
    "emocontext": "micro_f1_happy_sad_angry",
}
EXCLUDED = {"dailydialog": ("no emotion",), "emocontext": ("others",)}


def single_label_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str], benchmark: str | None = None
) -> dict:
    """Flat dict of F1 scores, per-class precision/recall/F1 and the confusion matrix (rows = true)."""
    ids = list(range(len(labels)))
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    out = {
        "weighted_f1": float(f1_score(y_true, y_pred, labels=ids, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0)),
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else 0.0,
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, lab in enumerate(labels)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=ids).tolist(),
        "labels": list(labels),
    }
    if benchmark in EXCLUDED:
        kept = [i for i, lab in enumerate(labels) if lab not in EXCLUDED[benchmark]]
        key = HEADLINE[benchmark]
        out[key] = float(f1_score(y_true, y_pred, labels=kept, average="micro", zero_division=0))
    return out


def multi_label_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    """Multi-label (indicator matrices): macro/micro/weighted F1 and per-class scores."""
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, lab in enumerate(labels)
        },
        "labels": list(labels),
    }
