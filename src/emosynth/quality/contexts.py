"""Context personalization: are the contexts of one theme written anew for each character, or one context
reworded? (Emo Pillars grounds every contextual utterance in its character's situation in a story.)

A theme is the emotion an utterance was written for: an example's ``metadata["target"]``, else its first label.
Within a theme the contexts come from different calls, characters and stories, so two near-duplicate contexts
there mean the generator fell back on one stock situation for that emotion instead of the character's own.
"""

from __future__ import annotations

import random
import statistics
from typing import Any

import numpy as np

from emosynth.quality.diversity import SentenceEncoder, mean_pairwise_distance
from emosynth.quality.example_fidelity import written_for
from emosynth.records import Example
from emosynth.text import near_duplicates

THEME = "target emotion (metadata target, else first label)"


def theme(example: Example) -> str:
    """The theme of an example: the emotion it was written for."""
    return written_for(example) or ""


def contexts_by_theme(examples: list[Example]) -> dict[str, list[Example]]:
    """The examples that have a context, by theme (in order of first appearance)."""
    themes: dict[str, list[Example]] = {}
    for ex in examples:
        if ex.context and ex.context.strip():
            themes.setdefault(theme(ex), []).append(ex)
    return themes


def duplicated(contexts: list[str]) -> int:
    """How many of ``contexts`` have a near duplicate among the others (``text.near_duplicates``, MinHash)."""
    return sum(1 for similar in near_duplicates(contexts) if similar)


def context_personalization(
    examples: list[Example], encoder: SentenceEncoder | None = None, per_theme: int = 200, seed: int = 0
) -> dict[str, Any] | None:
    """How far apart the contexts of one theme are (None when no example has a context).

    ``near_duplicate_rate``: of the contexts that share their theme with another, the fraction with a near
    duplicate in their theme (two near-duplicate contexts of one theme: both count). ``semantic_diversity``
    (with an encoder): the mean pairwise cosine distance of a seeded sample of up to ``per_theme`` contexts of
    each theme, per theme and their mean. A theme with a single context is counted but not compared.
    """
    themes = contexts_by_theme(examples)
    if not themes:
        return None
    shared = {k: v for k, v in themes.items() if len(v) >= 2}
    compared = sum(len(v) for v in shared.values())
    dups = sum(duplicated([e.context for e in v]) for v in shared.values())
    characters = [len({e.metadata.get("character", e.id) for e in v}) for v in shared.values()]
    report: dict[str, Any] = {
        "theme": THEME,
        "contexts": sum(len(v) for v in themes.values()),
        "themes": len(themes),
        "themes_compared": len(shared),
        "contexts_compared": compared,
        "characters_per_theme": round(statistics.fmean(characters), 3) if characters else None,
        "near_duplicate_rate": round(dups / compared, 4) if compared else None,
    }
    if encoder is not None:
        rng = random.Random(seed)
        picked = {k: rng.sample([e.context for e in v], min(max(per_theme, 2), len(v))) for k, v in shared.items()}
        unique = sorted({c for v in picked.values() for c in v})
        emb = dict(zip(unique, encoder.encode(unique)))
        per = {k: round(mean_pairwise_distance(np.stack([emb[c] for c in v])), 4) for k, v in picked.items()}
        mean = round(statistics.fmean(per.values()), 4) if per else None
        report["semantic_diversity"] = {"mean": mean, "per_theme": per}
    return report
