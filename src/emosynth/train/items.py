"""Classification items: a dialogue turn (its speaker, label and the dialogue around it) or an example.

A label is one id, or for a multi-label set (GoEmotions) a sorted tuple of ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Example
from emosynth.taxonomy import Taxonomy, get_taxonomy


@dataclass(slots=True)
class TurnItem:
    """One turn to classify; ``history``/``future`` are (speaker, text) pairs, oldest first; ``soft``: a
    multi-label example's rater scores per label (soft targets), when it has them."""

    dialogue_id: str
    index: int
    speaker: str
    text: str
    label: int | tuple[int, ...]
    history: list[tuple[str, str]]
    future: list[tuple[str, str]]
    soft: tuple[float, ...] | None = None


def turn_items(dialogues: Iterable[Dialogue], taxonomy: Taxonomy | None) -> list[TurnItem]:
    """Every turn of every dialogue, with labels mapped into ``taxonomy`` (e.g. synthetic -> benchmark set).

    ``taxonomy=None`` reads the turns unlabelled (prediction input): every item's label is -1.
    """
    labelled = taxonomy is not None
    items = []
    for d in dialogues:
        src = (taxonomy if d.taxonomy == taxonomy.name else get_taxonomy(d.taxonomy)) if labelled else None
        pairs = [(t.speaker, t.text) for t in d.turns]
        for i, t in enumerate(d.turns):
            label = -1
            if labelled:
                name = src.convert(t.emotion, taxonomy)
                if name is None:
                    raise ConfigError(f"Dialogue {d.id}: label '{t.emotion}' has no {taxonomy.name} equivalent")
                label = taxonomy.index(name)
            items.append(TurnItem(d.id, i, t.speaker, t.text, label, pairs[:i], pairs[i + 1 :]))
    return items


def example_items(
    examples: Iterable[Example], taxonomy: Taxonomy | None, unmapped: Counter | None = None
) -> list[TurnItem]:
    """Utterance-level examples as items.

    An example with a context (Emo Pillars' contextual examples) reads as a short scene: the character's
    description and the context as earlier turns, then the utterance spoken by the character. Labels are mapped
    into ``taxonomy``; a multi-label set keeps every mapped label (and the rater's scores, mapped the same way,
    as soft targets), a single-label set the one the rater scored highest (else the first in label order).
    ``taxonomy=None`` reads them unlabelled (label -1). An example none of whose labels has an equivalent in
    ``taxonomy`` (GoEmotions' surprise in ISEAR) is an error, unless ``unmapped`` is given: then it is left out and
    counted there under its labels (``"neutral"``, ``"confusion+surprise"``).
    """
    items = []
    for ex in examples:
        history, speaker = [], ""
        if ex.context:
            history = [("", text) for text in (ex.metadata.get("character_description"), ex.context) if text]
            speaker = ex.metadata.get("character", "")
        label: int | tuple[int, ...] = -1
        soft = None
        if taxonomy is not None:
            src = taxonomy if ex.taxonomy == taxonomy.name else get_taxonomy(ex.taxonomy)
            names = [src.convert(lab, taxonomy) for lab in ex.labels]
            ids = sorted({taxonomy.index(n) for n in names if n is not None})
            if not ids and unmapped is not None:
                unmapped["+".join(ex.labels)] += 1
                continue
            if not ids:
                raise ConfigError(f"Example {ex.id}: labels {ex.labels} have no {taxonomy.name} equivalent")
            scores = _mapped_scores(ex.metadata["scores"], src, taxonomy) if ex.metadata.get("scores") else None
            if taxonomy.multi_label:
                label, soft = tuple(ids), scores
            else:  # the mapped label the rater scored highest (the first in label order on a tie or without scores)
                label = max(ids, key=lambda k: scores[k]) if scores else ids[0]
        items.append(TurnItem(ex.id, 0, speaker, ex.text, label, history, [], soft))
    return items


def _mapped_scores(scores: dict[str, float], source: Taxonomy, taxonomy: Taxonomy) -> tuple[float, ...]:
    """Scores per label of ``taxonomy`` (a target label several source labels map to takes their maximum)."""
    out = [0.0] * len(taxonomy.labels)
    for label, score in scores.items():
        name = label if source == taxonomy else source.convert(label, taxonomy)
        if name is not None:
            k = taxonomy.index(name)
            out[k] = max(out[k], float(score))
    return tuple(out)
