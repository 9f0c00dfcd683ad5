"""Any dataset the tool reads, synthetic or real, as one ``Corpus`` of labelled texts.

A corpus is named by a path (a JSONL written by emosynth: dialogues or examples) or by a benchmark spec
``NAME[:SPLIT]`` (``meld:train``, ``emorynlp-full:dev``, ``goemotions:test``; read from ``data_root`` or the
shared data); a benchmark you hold yourself takes its file or folder after the colon, then optionally the
split (``isear:/data/isear.csv:test``, ``emocontext:/data/emocontext:dev``, ``iemocap:/data/iemocap:train``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from emosynth.data.benchmarks import ERC_BENCHMARKS, EXAMPLE_BENCHMARKS, load_split, taxonomy_name
from emosynth.errors import ConfigError, UnknownNameError
from emosynth.records import Dialogue, Example
from emosynth.taxonomy import Taxonomy, get_taxonomy

SPLITS = ("train", "dev", "test")


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
        """True for dialogues (ERC), False for utterance-level examples."""
        return bool(self.dialogues)

    def texts(self) -> list[str]:
        """Every text (turn or example), in order."""
        if self.is_dialogue:
            return [t.text for d in self.dialogues for t in d.turns]
        return [e.text for e in self.examples]

    def labels(self) -> list[list[str]]:
        """The labels of each text, aligned with ``texts()`` (one per turn; several for multi-label data)."""
        if self.is_dialogue:
            return [[t.emotion] for d in self.dialogues for t in d.turns]
        return [list(e.labels) for e in self.examples]

    def claimed(self) -> list[list[str]]:
        """The label(s) each text was written for, aligned with ``texts()``: an example's ``metadata["target"]``
        when it has one (Emo Pillars), else its labels (a turn's label, a real example's labels)."""
        if self.is_dialogue:
            return self.labels()
        return [[e.metadata["target"]] if e.metadata.get("target") else list(e.labels) for e in self.examples]

    def out_of_taxonomy(self) -> Counter:
        """How often each label that is not in ``taxonomy`` occurs (spelled exactly; such labels are kept)."""
        known = set(self.taxonomy.labels)
        return Counter(label for labels in self.labels() for label in labels if label not in known)

    def __len__(self) -> int:
        return len(self.dialogues) if self.is_dialogue else len(self.examples)


def load_corpus(spec: str | Path, data_root: str | Path | None = None, name: str | None = None) -> Corpus:
    """Read ``spec`` (a JSONL path or ``NAME[:SPLIT]``/``NAME:PATH``) into a corpus."""
    from emosynth.data.io import read_records

    path = Path(spec)
    if path.suffix == ".jsonl" or path.is_file():
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        records = read_records(path)
        tax = get_taxonomy(records[0].taxonomy)
        if isinstance(records[0], Dialogue):
            return Corpus(name or path.stem, tax, dialogues=records, source=str(path))
        return Corpus(name or path.stem, tax, examples=records, source=str(path))
    bench, _, rest = str(spec).partition(":")
    if bench not in (*ERC_BENCHMARKS, *EXAMPLE_BENCHMARKS):
        known = ", ".join((*ERC_BENCHMARKS, *EXAMPLE_BENCHMARKS))
        raise UnknownNameError(f"'{spec}' is neither a JSONL file nor a benchmark ({known}) with an optional :split")
    # NAME[:SPLIT] reads from --data-root (or the shared data); NAME:PATH[:SPLIT] from your own copy.
    root, split = data_root, rest or "train"
    if rest and rest not in SPLITS:
        path_part, _, maybe_split = rest.rpartition(":")
        root, split = (path_part, maybe_split) if maybe_split in SPLITS and path_part else (rest, "train")
    if split not in SPLITS:
        raise ConfigError(f"{spec}: unknown split '{split}'; expected one of {', '.join(SPLITS)}")
    tax = get_taxonomy(taxonomy_name(bench))
    records = load_split(bench, split, root)
    if bench in ERC_BENCHMARKS:
        return Corpus(name or str(spec), tax, dialogues=records, source=str(spec))
    return Corpus(name or str(spec), tax, examples=records, source=str(spec))
