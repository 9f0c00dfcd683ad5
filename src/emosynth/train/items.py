"""Turns of dialogues as classification items: the turn, its speaker, label id, and the dialogue around it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from emosynth.errors import ConfigError
from emosynth.records import Dialogue
from emosynth.taxonomy import Taxonomy, get_taxonomy


@dataclass(slots=True)
class TurnItem:
    """One turn to classify; ``history``/``future`` are (speaker, text) pairs, oldest first."""

    dialogue_id: str
    index: int
    speaker: str
    text: str
    label: int
    history: list[tuple[str, str]]
    future: list[tuple[str, str]]


def turn_items(dialogues: Iterable[Dialogue], taxonomy: Taxonomy | None) -> list[TurnItem]:
    """Every turn of every dialogue, with labels mapped into ``taxonomy`` (e.g. synthetic -> benchmark set).

    ``taxonomy=None`` reads the turns unlabelled (prediction input): every item's label is -1.
    """
    labelled = taxonomy is not None
    items = []
    for d in dialogues:
        src = get_taxonomy(d.taxonomy) if labelled and d.taxonomy != taxonomy.name else taxonomy
        pairs = [(t.speaker, t.text) for t in d.turns]
        for i, t in enumerate(d.turns):
            label = -1
            if labelled:
                name = src.map_to(t.emotion, taxonomy) if src is not taxonomy else taxonomy.check(t.emotion)
                if name is None:
                    raise ConfigError(f"Dialogue {d.id}: label '{t.emotion}' has no {taxonomy.name} equivalent")
                label = taxonomy.index(name)
            items.append(TurnItem(d.id, i, t.speaker, t.text, label, pairs[:i], pairs[i + 1 :]))
    return items
