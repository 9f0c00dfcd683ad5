"""Label-word leakage: a text that names its own label ("I'm so angry!" labelled anger) teaches the word, not
the emotion. The word forms of each label are in ``resources/emotion_words.yaml``.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

from emosynth.quality.corpus import Corpus
from emosynth.taxonomy import load_yaml
from emosynth.text import words


@cache
def emotion_words() -> dict[str, frozenset[str]]:
    """Case-folded word forms per label name (a label missing from the file is its own only form)."""
    with resources.as_file(resources.files("emosynth").joinpath("resources/emotion_words.yaml")) as p:
        raw = load_yaml(p)
    return {str(k).casefold(): frozenset(map(str.casefold, v)) for k, v in raw.items()}


def leakage(corpus: Corpus) -> dict[str, Any]:
    """How often a text names its own label ("I'm so angry" labelled anger), overall and per label."""
    forms_of = emotion_words()
    hits, totals = Counter(), Counter()
    for text, labels in zip(corpus.texts(), corpus.labels()):
        present = set(words(text))
        for label in labels:
            forms = forms_of.get(label.casefold(), frozenset({label.casefold()}))
            totals[label] += 1
            hits[label] += bool(present & forms)
    total = sum(totals.values())
    return {
        "rate": sum(hits.values()) / total if total else 0.0,
        "per_label": {k: hits[k] / totals[k] for k in corpus.taxonomy.labels if totals[k]},
    }
