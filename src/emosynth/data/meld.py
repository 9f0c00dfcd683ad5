"""MELD text annotations: ``{train,dev,test}_sent_emo.csv`` (one row per utterance)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from emosynth.data.io import csv_rows, group_dialogues
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
    """The CSV file of ``split`` under ``root`` (default: the shared data's ``meld/``)."""
    return Path(root or data_root() / "meld") / f"{split}_sent_emo.csv"


def read_meld(split: str = "train", root: str | Path | None = None) -> list[Dialogue]:
    """Dialogues of one split, ordered by Dialogue_ID, turns by Utterance_ID."""
    path = meld_path(split, root)
    tax = get_taxonomy("meld")
    rows: dict[int, list[tuple[int, Turn]]] = defaultdict(list)
    required = {"Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID"}
    for line, row in csv_rows(path, "MELD", required):
        try:
            did, uid = int(row["Dialogue_ID"]), int(row["Utterance_ID"])
            emotion = tax.check(row["Emotion"].strip(), f"{path}:{line}")
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path}:{line}: malformed MELD row ({exc})") from exc
        rows[did].append((uid, Turn(speaker=row["Speaker"], text=row["Utterance"], emotion=emotion)))
    return group_dialogues(
        rows, "meld", lambda did: f"meld-{split}-{did}", lambda did: {"split": split, "dialogue_id": did}
    )
