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
    if hasattr(model, "batches"):  # a dialogue-level model (TODKAT) reads whole dialogues at once
        batches = model.batches(features, batch_size)
    else:
        batches = sequential_batches([len(f["input_ids"]) for f in features], batch_size)
    for batch_ids in batches:
        out[batch_ids] = squash(model(**model.collate([features[i] for i in batch_ids]))).numpy()
    return out


def label_thresholds(model, threshold: float | None = None) -> np.ndarray | float:
    """The cut-off of each label's sigmoid: the thresholds tuned on dev saved with the model (``tune_thresholds``),
    else ``threshold`` (0.5 when None)."""
    tuned = getattr(model, "thresholds", None)
    if tuned is not None:
        return np.asarray(tuned, dtype=np.float32)
    return 0.5 if threshold is None else threshold


def tune_thresholds(scores: np.ndarray, gold: np.ndarray, grid: np.ndarray | None = None) -> list[float]:
    """Per label, the threshold of ``grid`` (0.01 .. 0.04, then 0.05 .. 0.95 by 0.05: rare labels score low) that
    gives the best F1 of ``scores >= t`` against the 0/1 matrix ``gold``; ties go to the threshold closest to 0.5,
    and a label ``gold`` never has keeps 0.5."""
    if grid is None:
        grid = np.round(np.concatenate([[0.01, 0.02, 0.03, 0.04], np.arange(0.05, 0.951, 0.05)]), 2)
    grid, gold = np.asarray(grid), np.asarray(gold, dtype=bool)
    f1 = np.zeros((len(grid), gold.shape[1]))
    for g, t in enumerate(grid):
        pred = scores >= t
        tp = (pred & gold).sum(0)
        f1[g] = 2 * tp / np.maximum(pred.sum(0) + gold.sum(0), 1)
    closeness = -np.abs(grid - 0.5)[:, None] * 1e-9  # breaks ties only
    best = grid[np.argmax(f1 + closeness, axis=0)]
    return [float(t) if gold[:, k].any() else 0.5 for k, t in enumerate(best)]


def predict(
    model,
    items: list[TurnItem],
    batch_size: int = 64,
    threshold: float | None = None,
    features: list[dict] | None = None,
) -> np.ndarray:
    """Label ids, or for a multi-label model an items x labels 0/1 matrix (``label_thresholds``)."""
    return decide(model, probabilities(model, items, batch_size, features), threshold)


def decide(model, scores: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Label ids from a ``probabilities`` matrix, or for a multi-label model its 0/1 matrix."""
    if getattr(model, "multi_label", False):
        return (scores >= label_thresholds(model, threshold)).astype(int)
    return scores.argmax(-1)


def evaluate(
    model,
    items: list[TurnItem],
    benchmark: str | None = None,
    batch_size: int = 64,
    threshold: float | None = None,
    features: list[dict] | None = None,
    scores: np.ndarray | None = None,
) -> dict:
    """Flat dict of metrics (plus per-class scores and the confusion matrix) and inference speed.

    ``scores`` (from ``probabilities``) skips running the model again."""
    start = time.perf_counter()
    timed = scores is None
    scores = probabilities(model, items, batch_size, features) if timed else scores
    seconds = time.perf_counter() - start
    pred = decide(model, scores, threshold)
    if getattr(model, "multi_label", False):
        gold = multi_hot([i.label for i in items], len(model.labels))
        metrics = multi_label_metrics(gold, pred, model.labels)
    else:
        metrics = single_label_metrics([i.label for i in items], pred.tolist(), model.labels, benchmark)
    if not timed:
        return metrics
    return metrics | {"inference_seconds": seconds, "inference_examples_per_s": len(items) / seconds}


def evaluate_on(
    model_dir: str | Path, benchmark: str, split: str = "test", data_root: str | None = None, tune: bool = False
) -> dict:
    """A saved classifier's metrics on a benchmark split (``emosynth evaluate``).

    ``tune``: a multi-label model first gets the per-label thresholds with the best F1 on this split, saved with
    it (for a model trained before thresholds were tuned; tune on dev, then evaluate on test)."""
    from emosynth.data.benchmarks import load_split, taxonomy_name
    from emosynth.errors import ConfigError
    from emosynth.taxonomy import get_taxonomy
    from emosynth.train.models import load_model
    from emosynth.train.regimes import items_of

    model = load_model(model_dir)
    items = items_of(load_split(benchmark, split, data_root), get_taxonomy(taxonomy_name(benchmark)))
    if not tune:
        return evaluate(model, items, benchmark)
    if not getattr(model, "multi_label", False):
        raise ConfigError(f"{model_dir}: thresholds are tuned for multi-label models only")
    scores = probabilities(model, items)
    model.thresholds = tune_thresholds(scores, multi_hot([i.label for i in items], len(model.labels)))
    model.save_thresholds(model_dir)
    return evaluate(model, items, benchmark, scores=scores) | {"thresholds": dict(zip(model.labels, model.thresholds))}


def label_turns(model_dir: str | Path, turns: list[tuple[str, str]]) -> list[str]:
    """The saved classifier's label for each (speaker, text) turn of one dialogue (``emosynth predict``)."""
    from emosynth.records import Dialogue, Turn
    from emosynth.train.models import load_model

    model = load_model(model_dir)
    items = turn_items([Dialogue("input", [Turn(s, t, "") for s, t in turns], "")], None)
    return [model.labels[k] for k in predict(model, items)]
