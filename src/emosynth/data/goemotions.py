"""GoEmotions: TSV without header ``text<TAB>comma-separated label ids<TAB>comment id`` (28 labels, multi-label)."""

from __future__ import annotations

from pathlib import Path

from emosynth.data.paths import data_root
from emosynth.errors import ConfigError
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy


def read_goemotions(split: str = "train", root: str | Path | None = None) -> list[Example]:
    """Examples of one split; label ids index ``emotions.txt`` (read from the same folder when present)."""
    root = Path(root or data_root() / "goemotions")
    tax = get_taxonomy("goemotions")
    names = tax.labels
    if (root / "emotions.txt").exists():
        names = tuple(root.joinpath("emotions.txt").read_text(encoding="utf-8").split())
        if set(names) != set(tax.labels):
            raise ConfigError(f"{root / 'emotions.txt'}: labels differ from the GoEmotions taxonomy")
    path = root / f"{split}.tsv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read GoEmotions file {path}: {exc.strerror}") from exc
    examples = []
    for n, line in enumerate(lines, start=1):
        parts = line.split("\t")  # texts contain '"': never a CSV reader here
        if len(parts) != 3:
            raise ConfigError(f"{path}:{n}: expected text<TAB>label ids<TAB>id, got {len(parts)} fields")
        text, ids, cid = parts
        try:
            labels = [names[int(i)] for i in ids.split(",")]
        except (ValueError, IndexError):
            raise ConfigError(f"{path}:{n}: label ids {ids!r} are not in 0..{len(names) - 1}") from None
        examples.append(
            Example(
                id=cid, text=text, labels=labels, taxonomy="goemotions", source="goemotions", metadata={"split": split}
            )
        )
    return examples
