"""MELD text annotations: ``{train,dev,test}_sent_emo.csv`` (one row per utterance)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from emosynth.data.paths import data_root
from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy

COLUMNS = [
    "Sr No.",
    "Utterance",
    "Speaker",
    "Emotion",
    "Sentiment",
    "Dialogue_ID",
    "Utterance_ID",
    "Season",
    "Episode",
    "StartTime",
    "EndTime",
]


def meld_path(split: str, root: str | Path | None = None) -> Path:
    return Path(root or data_root() / "meld") / f"{split}_sent_emo.csv"


def read_meld(split: str = "train", root: str | Path | None = None) -> list[Dialogue]:
    """Dialogues of one split, ordered by Dialogue_ID, turns by Utterance_ID."""
    path = meld_path(split, root)
    tax = get_taxonomy("meld")
    rows: dict[int, list[tuple[int, Turn]]] = defaultdict(list)
    try:
        fh = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"Cannot read MELD file {path}: {exc.strerror}") from exc
    with fh:
        reader = csv.DictReader(fh)
        missing = {"Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(f"{path}:1: missing MELD columns {sorted(missing)}")
        for row in reader:
            line = reader.line_num
            try:
                did, uid = int(row["Dialogue_ID"]), int(row["Utterance_ID"])
                emotion = tax.check(row["Emotion"].strip())
            except (ValueError, TypeError, AttributeError) as exc:
                raise ConfigError(f"{path}:{line}: malformed MELD row ({exc})") from exc
            except ConfigError as exc:
                raise ConfigError(f"{path}:{line}: {exc}") from exc
            rows[did].append((uid, Turn(speaker=row["Speaker"], text=row["Utterance"], emotion=emotion)))
    return [
        Dialogue(
            id=f"meld-{split}-{did}",
            turns=[t for _, t in sorted(turns, key=lambda x: x[0])],
            taxonomy="meld",
            source="meld",
            metadata={"split": split, "dialogue_id": did},
        )
        for did, turns in sorted(rows.items())
    ]
