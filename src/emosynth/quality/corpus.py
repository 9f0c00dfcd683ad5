"""Any dataset the tool reads, synthetic or real, as one ``Corpus`` of labelled texts.

A corpus is named by a path (a JSONL written by emosynth: dialogues or examples) or by a benchmark spec
``NAME[:SPLIT]`` (``meld:train``, ``emorynlp-full:dev``, ``goemotions:test``); benchmarks that are not
shipped take a file or folder after the colon (``isear:/data/isear.csv``, ``emocontext:/data/train.txt``,
``iemocap:/data/iemocap:train``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from emosynth.data.benchmarks import ERC_BENCHMARKS, load_erc, taxonomy_name
from emosynth.errors import ConfigError, UnknownNameError
from emosynth.records import Dialogue, Example
from emosynth.taxonomy import Taxonomy, get_taxonomy

SPLITS = ("train", "dev", "test")
EXAMPLE_BENCHMARKS = ("goemotions", "isear", "emocontext")


@dataclass
class Corpus:
    """Dialogues (ERC) or examples (utterance level) under one label set."""

    name: str
    taxonomy: Taxonomy
    dialogues: list[Dialogue] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    source: str = ""

    @property
    def is_dialogue(self) -> bool:
        return bool(self.dialogues)

    def texts(self) -> list[str]:
        if self.is_dialogue:
            return [t.text for d in self.dialogues for t in d.turns]
        return [e.text for e in self.examples]

    def labels(self) -> list[list[str]]:
        """The labels of each text, aligned with ``texts()`` (one per turn; several for multi-label data)."""
        if self.is_dialogue:
            return [[t.emotion] for d in self.dialogues for t in d.turns]
        return [list(e.labels) for e in self.examples]

    def __len__(self) -> int:
        return len(self.dialogues) if self.is_dialogue else len(self.examples)


def _sniff(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    return json.loads(line)
                except ValueError as exc:
                    raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from None
    raise ConfigError(f"{path}: empty file, nothing to read")


def load_corpus(spec: str | Path, data_root: str | Path | None = None, name: str | None = None) -> Corpus:
    """Read ``spec`` (a JSONL path or ``NAME[:SPLIT]``/``NAME:PATH``) into a corpus."""
    from emosynth.data.io import read_dialogues, read_examples

    path = Path(spec)
    if path.suffix == ".jsonl" or path.is_file():
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        first = _sniff(path)
        tax = get_taxonomy(first.get("taxonomy") or "meld")
        if "turns" in first:
            return Corpus(name or path.stem, tax, dialogues=read_dialogues(path), source=str(path))
        return Corpus(name or path.stem, tax, examples=read_examples(path), source=str(path))
    bench, _, rest = str(spec).partition(":")
    label = name or str(spec)
    if bench in ERC_BENCHMARKS:
        root, split = data_root, rest or "train"
        if bench in ("iemocap", "dailydialog") and rest:
            root, _, split = rest.rpartition(":") if ":" in rest else (rest, "", "train")
        if split not in SPLITS:
            raise ConfigError(f"{spec}: unknown split '{split}'; expected one of {', '.join(SPLITS)}")
        tax = get_taxonomy(taxonomy_name(bench))
        return Corpus(label, tax, dialogues=load_erc(bench, split, root), source=str(spec))
    if bench == "goemotions":
        from emosynth.data.goemotions import read_goemotions

        split = rest or "train"
        if split not in SPLITS:
            raise ConfigError(f"{spec}: unknown split '{split}'; expected one of {', '.join(SPLITS)}")
        return Corpus(label, get_taxonomy("goemotions"), examples=read_goemotions(split, data_root), source=str(spec))
    if bench in ("isear", "emocontext"):
        if not rest:
            raise ConfigError(f"{bench} is not shipped; name your copy as {bench}:PATH")
        from emosynth.data.emocontext import read_emocontext
        from emosynth.data.isear import read_isear

        reader = read_isear if bench == "isear" else read_emocontext
        return Corpus(label, get_taxonomy(bench), examples=reader(rest), source=str(spec))
    known = ", ".join((*ERC_BENCHMARKS, *EXAMPLE_BENCHMARKS))
    raise UnknownNameError(f"'{spec}' is neither a JSONL file nor a benchmark ({known}) with an optional :split")
