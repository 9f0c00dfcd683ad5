"""ISEAR: one pipe-separated file with a header of 42 names; ``Field1`` holds the emotion, ``SIT`` the text.

Some situation texts contain ``|`` themselves, so rows are split by position: the fields beyond the header's
count belong to ``SIT``. There is no official split; ``split_isear`` makes a stratified, seeded one.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

from emosynth.errors import ConfigError
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy


def _fields(line: str) -> list[str]:
    fields = line.rstrip("\r\n").split("|")
    return fields[:-1] if fields and fields[-1] == "" else fields  # rows may end with a trailing '|'


def read_isear(path: str | Path) -> list[Example]:
    """ISEAR examples from your own copy of the CSV (``|`` separated; situation text and emotion columns)."""
    path = Path(path)
    tax = get_taxonomy("isear")
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read ISEAR file {path}: {exc.strerror}") from exc
    if not lines:
        raise ConfigError(f"{path}: empty file")
    header = _fields(lines[0])
    if "Field1" not in header or "SIT" not in header:
        raise ConfigError(f"{path}:1: header needs the columns Field1 and SIT, got {len(header)} names")
    label_at, sit_at = header.index("Field1"), header.index("SIT")
    examples = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = _fields(line)
        extra = len(fields) - len(header)
        if extra < 0:
            raise ConfigError(f"{path}:{n}: {len(fields)} fields, the header has {len(header)}")
        text = "|".join(fields[sit_at : sit_at + extra + 1]).strip()
        label_field = fields[label_at if label_at < sit_at else label_at + extra].strip()
        if not text or "no response" in text.casefold():
            continue
        label = tax.check(label_field, f"{path}:{n}")
        text = " ".join(text.split())
        examples.append(Example(f"isear-{n}", text, [label], "isear", source="isear", metadata={"line": n}))
    return examples


def split_isear(examples: list[Example], seed: int = 0, dev: float = 0.1, test: float = 0.2) -> dict[str, list[str]]:
    """A stratified, seeded train/dev/test split; returns the example ids per split (record it with results)."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        by_label[ex.labels[0]].append(ex.id)
    rng = random.Random(seed)
    split: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for label in sorted(by_label):
        ids = sorted(by_label[label])
        rng.shuffle(ids)
        n_test, n_dev = round(len(ids) * test), round(len(ids) * dev)
        split["test"] += ids[:n_test]
        split["dev"] += ids[n_test : n_test + n_dev]
        split["train"] += ids[n_test + n_dev :]
    return split
