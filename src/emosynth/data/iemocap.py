"""IEMOCAP as used in ERC papers (6 labels): ``*_train.txt``, ``*_dev.txt``, ``*_test.txt`` in the
``speaker<TAB>utterance<TAB>label`` layout with short codes (hap, sad, neu, ang, exc, fru). Not redistributable:
point ``root`` at your own licensed copy."""

from __future__ import annotations

from pathlib import Path

from emosynth.data.turn_tsv import read_turn_tsv
from emosynth.errors import ConfigError
from emosynth.records import Dialogue
from emosynth.taxonomy import get_taxonomy


def read_iemocap(split: str, root: str | Path) -> list[Dialogue]:
    """IEMOCAP dialogues of ``split`` from your own copy under ``root`` (CoMPM's ``IEMOCAP_<split>.txt`` layout)."""
    matches = sorted(Path(root).glob(f"*_{split}.txt"))
    if len(matches) != 1:
        raise ConfigError(f"Expected one IEMOCAP file *_{split}.txt in {root}, found {len(matches)}")
    return read_turn_tsv(matches[0], get_taxonomy("iemocap"), "iemocap", split)
