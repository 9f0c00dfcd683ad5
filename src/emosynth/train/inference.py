"""Inference with a trained classifier, without a trainer: label ids (or a multi-label 0/1 matrix) and metrics."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from emosynth.train.batching import sequential_batches
from emosynth.train.items import TurnItem, turn_items
from emosynth.train.metrics import multi_label_metrics, single_label_metrics


def multi_hot(labels: list, n_classes: int) -> np.ndarray:
    """Rows of 0/1 from label-id tuples (a plain id counts as a one-label tuple)."""
    out = np.zeros((len(labels), n_classes), dtype=int)
    for row, ids in enumerate(labels):
        out[row, list(ids) if isinstance(ids, (tuple, list)) else [ids]] = 1
    return out


@torch.no_grad()
def probabilities(model, items: list[TurnItem], batch_size: int = 64, features: list[dict] | None = None) -> np.ndarray:
    """An items x labels matrix: each label's sigmoid for a multi-label model, the softmax over labels otherwise.

    ``features`` (from ``model.featurize(items)``) skips featurizing again.
    """
    model.eval()
    features = features if features is not None else model.featurize(items)
    squash = torch.sigmoid if getattr(model, "multi_label", False) else lambda z: torch.softmax(z, -1)
    out = np.zeros((len(items), len(model.labels)), dtype=np.float32)
    for batch_ids in sequential_batches([len(f["input_ids"]) for f in features], batch_size):
        out[batch_ids] = squash(model(**model.collate([features[i] for i in batch_ids]))).numpy()
    return out


def predict(
    model, items: list[TurnItem], batch_size: int = 64, threshold: float = 0.5, features: list[dict] | None = None
) -> np.ndarray:
    """Label ids, or for a multi-label model an items x labels 0/1 matrix (sigmoid >= ``threshold``)."""
    scores = probabilities(model, items, batch_size, features)
    if getattr(model, "multi_label", False):
        return (scores >= threshold).astype(int)
    return scores.argmax(-1)


def evaluate(
    model,
    items: list[TurnItem],
    benchmark: str | None = None,
    batch_size: int = 64,
    threshold: float = 0.5,
    features: list[dict] | None = None,
) -> dict:
    """Flat dict of metrics (plus per-class scores and the confusion matrix) and inference speed."""
    start = time.perf_counter()
    pred = predict(model, items, batch_size, threshold, features)
    seconds = time.perf_counter() - start
    if getattr(model, "multi_label", False):
        gold = multi_hot([i.label for i in items], len(model.labels))
        metrics = multi_label_metrics(gold, pred, model.labels)
    else:
        metrics = single_label_metrics([i.label for i in items], pred.tolist(), model.labels, benchmark)
    return metrics | {"inference_seconds": seconds, "inference_examples_per_s": len(items) / seconds}


def evaluate_on(model_dir: str | Path, benchmark: str, split: str = "test", data_root: str | None = None) -> dict:
    """A saved classifier's metrics on a benchmark split (``emosynth evaluate``)."""
    from emosynth.data.benchmarks import load_split, taxonomy_name
    from emosynth.taxonomy import get_taxonomy
    from emosynth.train.models import load_model
    from emosynth.train.regimes import items_of

    model = load_model(model_dir)
    items = items_of(load_split(benchmark, split, data_root), get_taxonomy(taxonomy_name(benchmark)))
    return evaluate(model, items, benchmark)


def label_turns(model_dir: str | Path, turns: list[tuple[str, str]]) -> list[str]:
    """The saved classifier's label for each (speaker, text) turn of one dialogue (``emosynth predict``)."""
    from emosynth.records import Dialogue, Turn
    from emosynth.train.models import load_model

    model = load_model(model_dir)
    items = turn_items([Dialogue("input", [Turn(s, t, "") for s, t in turns], "")], None)
    return [model.labels[k] for k in predict(model, items)]
