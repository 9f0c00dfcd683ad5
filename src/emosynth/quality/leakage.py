"""Label-word leakage: a text that names its own label ("I'm so angry!" labelled anger) teaches the word, not
the emotion. The word forms of each label are in ``resources/emotion_words.yaml``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from emosynth.quality.corpus import Corpus
from emosynth.taxonomy import names_label
from emosynth.text import words


def leakage(corpus: Corpus) -> dict[str, Any]:
    """How often a text names its own label ("I'm so angry" labelled anger), overall and per label.

    A text's own label is the one it was written for (``Corpus.claimed``): an example's target when its metadata
    has one, so a Pillars utterance written for anger that the rater also labels annoyance counts once, as anger.
    """
    hits, totals = Counter(), Counter()
    for text, labels in zip(corpus.texts(), corpus.claimed()):
        present = set(words(text))
        for label in labels:
            totals[label] += 1
            hits[label] += names_label(present, label)
    total = sum(totals.values())
    return {
        "rate": sum(hits.values()) / total if total else 0.0,
        "per_label": {k: hits[k] / totals[k] for k in corpus.taxonomy.labels if totals[k]},
    }
