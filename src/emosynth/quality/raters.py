"""Raters of soft labels (``emosynth.judge.Rater``) and their ceiling on real data.

- ``ClassifierRater``: a classifier saved by ``emosynth train`` (for Emo Pillars: the multi-label GoEmotions one).
- ``rater_ceiling``: the rater's own macro-F1 and per-label recall on a label-balanced sample of real examples
  (e.g. GoEmotions dev), the most agreement its labels can be expected to carry.
"""

from __future__ import annotations

import random
from typing import Any

from emosynth.quality.judges import taxonomy_of
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy


class ClassifierRater:
    """Soft labels from a classifier saved by ``emosynth train``: its sigmoid (multi-label) or softmax scores.

    A model that reads the turns before the current one (``context``, ``compm``) reads an example's context as
    the turn before its utterance; an ``utterance`` model scores the utterance alone (``reads_context`` False).
    """

    name = "classifier"

    def __init__(self, model_dir: str, batch_size: int = 64):
        from emosynth.train.models import load_model

        self.identity = str(model_dir)
        self.model = load_model(model_dir)
        self.batch_size = batch_size
        self.taxonomy = taxonomy_of(self.model.labels)
        self.reads_context = getattr(self.model, "kind", "compm") != "utterance"

    def rate(self, examples: list[Example]) -> list[list[float]]:
        """One row of scores per example, in the classifier's label order."""
        from emosynth.train.inference import probabilities
        from emosynth.train.items import example_items

        if not examples:
            return []
        return probabilities(self.model, example_items(examples, None), self.batch_size).tolist()


def balanced_examples(examples: list[Example], labels: list[str], per_label: int, seed: int = 0) -> list[Example]:
    """Up to ``per_label`` examples carrying each label (seeded; an example counts once), in a stable order."""
    rng = random.Random(seed)
    chosen: dict[str, Example] = {}
    for label in labels:
        pool = [e for e in examples if label in e.labels and e.id not in chosen]
        for e in rng.sample(pool, min(per_label, len(pool))):
            chosen[e.id] = e
    return sorted(chosen.values(), key=lambda e: e.id)


def rater_ceiling(rater, real: list[Example], per_label: int = 20, threshold: float = 0.3, seed: int = 0) -> dict:
    """Macro-F1 and per-label recall of ``rater`` (scores >= ``threshold``) against the real labels of a
    label-balanced sample of ``real`` (labels mapped into the rater's set), over the labels the sample has."""
    from sklearn.metrics import f1_score, recall_score

    labels = list(rater.taxonomy.labels)
    mapped = [_in_set(e, rater.taxonomy) for e in real]
    sample = balanced_examples([e for e in mapped if e.labels], labels, per_label, seed)
    gold = [[int(label in e.labels) for label in labels] for e in sample]
    pred = [[int(s >= threshold) for s in row] for row in rater.rate(sample)]
    present = [k for k in range(len(labels)) if any(row[k] for row in gold)]  # labels the sample has
    recall = recall_score(gold, pred, labels=present, average=None, zero_division=0)
    macro = f1_score(gold, pred, labels=present, average="macro", zero_division=0) if present else 0.0
    result: dict[str, Any] = {
        "rater": rater.identity,
        "macro_f1": round(float(macro), 4),
        "recall_per_label": {labels[k]: round(float(r), 4) for k, r in zip(present, recall)},
        "examples": len(sample),
        "per_label_sample": per_label,
        "threshold": threshold,
        "seed": seed,
    }
    return result


def _in_set(example: Example, taxonomy) -> Example:
    source = taxonomy if example.taxonomy == taxonomy.name else get_taxonomy(example.taxonomy)
    labels = {source.convert(label, taxonomy) for label in example.labels} - {None}
    return Example(example.id, example.text, sorted(labels), taxonomy.name, example.context)
