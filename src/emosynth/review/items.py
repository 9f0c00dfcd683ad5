"""The review queue: which turns (or utterance examples) a person labels, in which order, with what they see.

A dialogue is reviewed turn by turn with the dialogue so far visible; an Emo Pillars example with its context when
it has one. ``--sample N`` takes whole dialogues (or examples) in a seeded order until N items are queued: the
order does not depend on N, so a larger sample later extends the queue and keeps every answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from emosynth.data.io import numbered_records
from emosynth.errors import ConfigError
from emosynth.records import Dialogue
from emosynth.taxonomy import Taxonomy, get_taxonomy


@dataclass(frozen=True)
class Item:
    """One thing to label: a turn of a dialogue, or an example (``turn`` is None)."""

    key: str  # "<dialogue id>#<turn index>" or the example id
    unit: str  # the dialogue or example id
    turn: int | None
    speaker: str | None
    text: str
    assigned: tuple[str, ...]  # the label(s) the data gives it, first the main one
    earlier: tuple[tuple[str, str], ...] = ()  # (speaker, text) of the turns before it
    context: str | None = None  # an example's personal context

    def to_dict(self) -> dict:
        """What the page shows (``assigned`` only after the answer)."""
        return {
            "key": self.key,
            "speaker": self.speaker,
            "text": self.text,
            "earlier": [{"speaker": s, "text": t} for s, t in self.earlier],
            "context": self.context,
        }


@dataclass(frozen=True)
class Queue:
    """A dataset's review queue."""

    path: Path
    taxonomy: Taxonomy
    kind: str  # "dialogues" | "examples"
    items: tuple[Item, ...]

    @cached_property
    def _by_key(self) -> dict[str, Item]:
        return {item.key: item for item in self.items}

    def find(self, key: str) -> Item:
        """The item with that key, or an error naming it."""
        if (item := self._by_key.get(key)) is None:
            raise ConfigError(f"{self.path}: no item '{key}' in this review's queue")
        return item


def _units(path: Path) -> tuple[Taxonomy, str, list[list[Item]]]:
    """Every record as the items it holds; labels checked against the record's taxonomy (file:line errors)."""
    units: list[list[Item]] = []
    taxonomy = None
    records = numbered_records(path)
    seen: dict[str, int] = {}
    for n, record in records:
        where = f"{path}:{n}"
        if record.id in seen:
            raise ConfigError(
                f"{where}: the id '{record.id}' is used at line {seen[record.id]} already; a review needs unique ids"
            )
        seen[record.id] = n
        tax = get_taxonomy(record.taxonomy)
        if taxonomy is not None and tax.name != taxonomy.name:
            raise ConfigError(
                f"{where}: taxonomy '{tax.name}' differs from the file's first record ('{taxonomy.name}')"
            )
        taxonomy = tax
        if isinstance(record, Dialogue):
            turns = [(t.speaker, t.text) for t in record.turns]
            units.append(
                [
                    Item(
                        f"{record.id}#{i}",
                        record.id,
                        i,
                        t.speaker,
                        t.text,
                        (tax.check(t.emotion, where),),
                        tuple(turns[:i]),
                    )
                    for i, t in enumerate(record.turns)
                ]
            )
        else:
            if not record.labels:
                raise ConfigError(f"{where}: example '{record.id}' has no label")
            labels = tuple(tax.check(lab, where) for lab in record.labels)
            units.append([Item(record.id, record.id, None, None, record.text, labels, context=record.context)])
    kind = "dialogues" if isinstance(records[0][1], Dialogue) else "examples"
    return taxonomy, kind, units


def load_queue(path: str | Path, sample: int | None = 100, seed: int = 0) -> Queue:
    """The review queue of a JSONL file of dialogues or examples (``sample`` None: every item, in seeded order)."""
    path = Path(path)
    if path.suffix != ".jsonl":
        raise ConfigError(
            f"{path}: unknown file format '{path.suffix or '(none)'}'; expected a .jsonl of emosynth dialogues or "
            "examples (e.g. a `generate` output or `emosynth export`)"
        )
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    taxonomy, kind, units = _units(path)
    random.Random(seed).shuffle(units)
    items: list[Item] = []
    for unit in units:
        if sample is not None and len(items) >= sample:
            break
        items.extend(unit)
    return Queue(path, taxonomy, kind, tuple(items))
