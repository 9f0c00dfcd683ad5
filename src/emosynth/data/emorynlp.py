"""EmoryNLP: the ERC-benchmark CSV version (``emorynlp_{split}_final.csv``) and the full release (``compm_full/``)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from emosynth.data.io import csv_rows, group_dialogues
from emosynth.data.paths import data_root
from emosynth.data.turn_tsv import read_turn_tsv
from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy

VERSIONS = ("csv", "full")
_FULL_SPLITS = {"train": "train", "dev": "dev", "test": "test"}


def read_emorynlp(split: str = "train", version: str = "csv", root: str | Path | None = None) -> list[Dialogue]:
    """Args: version ``csv`` (7,551/954/984 utterances, the ERC version) or ``full`` (9,934/1,344/1,328)."""
    root = Path(root or data_root() / "emorynlp")
    tax = get_taxonomy("emorynlp")
    if version == "full":
        return read_turn_tsv(root / "compm_full" / f"EMORY_{_FULL_SPLITS[split]}.txt", tax, "emorynlp-full", split)
    if version != "csv":
        raise ConfigError(f"Unknown EmoryNLP version '{version}'; expected one of {VERSIONS}")
    path = root / f"emorynlp_{split}_final.csv"
    scenes: dict[tuple[int, int, int], list[tuple[int, Turn]]] = defaultdict(list)
    for line, row in csv_rows(path, "EmoryNLP"):
        try:
            key = (int(row["Season"]), int(row["Episode"]), int(row["Scene_ID"]))
            speakers = ast.literal_eval(row["Speaker"])
            speaker = ", ".join(speakers) if isinstance(speakers, list) else str(speakers)
            emotion = tax.check(row["Emotion"].strip(), f"{path}:{line}")
            uid = int(row["Utterance_ID"])
        except (ValueError, SyntaxError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path}:{line}: malformed EmoryNLP row ({exc})") from exc
        scenes[key].append((uid, Turn(speaker=speaker, text=row["Utterance"], emotion=emotion)))
    return group_dialogues(
        scenes,
        "emorynlp",
        lambda k: f"emorynlp-{split}-s{k[0]}e{k[1]}c{k[2]}",
        lambda k: {"split": split, "version": "csv"},
    )
