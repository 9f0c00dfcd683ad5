"""A filtered copy of a judged dataset: disagreeing turns relabelled, or disagreeing dialogues dropped."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from emosynth.data.io import sidecar, write_atomic, write_records
from emosynth.errors import ConfigError
from emosynth.quality.agreement import Verdicts
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy


def filter_dialogues(
    verdicts: Verdicts, level: str = "turn", by: tuple[str, ...] | None = None, max_disagreement: float = 0.0
) -> tuple[list[Dialogue], dict[str, int]]:
    """A filtered copy of the dataset.

    A turn *disagrees* when every judge in ``by`` (default: all) answered and none agrees with its label;
    with several judges, a relabel also needs the judges to agree with each other.

    - ``level="turn"``: a disagreeing turn takes the judges' label when it maps back into the dataset's
      label set and the judges agree on it; otherwise the turn keeps its label. The dialogue's metadata
      lists the relabelled turns.
    - ``level="dialogue"``: a dialogue is dropped when more than ``max_disagreement`` of its turns disagree.
    """
    if level not in ("turn", "dialogue"):
        raise ConfigError(f"Unknown filter level '{level}'; expected turn or dialogue")
    by = tuple(by or verdicts.judged)
    unknown = [b for b in by if b not in verdicts.judged]
    if unknown:
        raise ConfigError(f"No judge named {unknown[0]!r}; judged by: {', '.join(verdicts.judged)}")
    golds = {b: verdicts.gold(b) for b in by}
    kept: list[Dialogue] = []
    stats = {"dialogues_in": len(verdicts.dialogues), "turns_relabelled": 0, "dialogues_dropped": 0}
    k = 0
    for d in verdicts.dialogues:
        own = get_taxonomy(d.taxonomy)
        turns, relabelled, disagree = [], [], 0
        for i, t in enumerate(d.turns):
            answers = [(verdicts.judged[b][k], golds[b][k], verdicts.taxonomies[b]) for b in by]
            k += 1
            against = all(j is not None and g is not None and j != g for j, g, _ in answers)
            new = None
            if against:
                disagree += 1
                back = {tax.convert(j, own) for j, _, tax in answers}
                new = back.pop() if len(back) == 1 else None
                if new == own.check(t.emotion):  # another label set's label that maps back onto the same one
                    new = None
            if level == "turn" and new is not None:
                turns.append(Turn(t.speaker, t.text, new))
                relabelled.append(i)
            else:
                turns.append(t)
        if level == "dialogue" and disagree > max_disagreement * len(d.turns):
            stats["dialogues_dropped"] += 1
            continue
        meta = dict(d.metadata)
        if relabelled:
            meta["relabelled"] = {"turns": relabelled, "by": list(by), "from": [d.turns[i].emotion for i in relabelled]}
            stats["turns_relabelled"] += len(relabelled)
        kept.append(replace(d, turns=turns, metadata=meta))
    stats["dialogues_out"] = len(kept)
    return kept, stats


def write_filtered(
    verdicts: Verdicts,
    output: str | Path,
    level: str = "turn",
    by: tuple[str, ...] = (),
    max_disagreement: float = 0.0,
    source: str | Path | None = None,
) -> dict[str, Any]:
    """``filter_dialogues`` written to ``output`` (replaced whole, never half-written); returns its statistics.

    The statistics, with ``source`` (the judged dataset), are also written beside the copy as ``<output>.filter.json``,
    so that whoever reads the copy later (``emosynth report``) can say where it came from and what was dropped.
    """
    kept, stats = filter_dialogues(verdicts, level, by, max_disagreement)
    output = Path(output)
    stats = stats | {"level": level, "by": list(by or verdicts.judged), "output": str(output)}
    write_records(output, kept)
    record = stats | {"source": str(source) if source else None}
    write_atomic(sidecar(output, "filter.json"), json.dumps(record, indent=1) + "\n")
    return stats
