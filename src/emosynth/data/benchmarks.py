"""Benchmarks by name: ERC splits as dialogues, utterance-level splits as examples; a configurable root."""

from __future__ import annotations

import random
from pathlib import Path

from emosynth.errors import ConfigError, UnknownNameError
from emosynth.records import Dialogue, Example

ERC_BENCHMARKS = ("meld", "emorynlp", "emorynlp-full", "iemocap", "dailydialog")
EXAMPLE_BENCHMARKS = ("goemotions", "isear", "emocontext")


def sample_dialogues(dialogues: list[Dialogue], n: int | None, seed: int = 0) -> list[Dialogue]:
    """A seeded sample of ``n`` of ``dialogues`` (all of them when ``n`` is None or not smaller): the dialogues
    ``emosynth knowledge --dialogues n`` asks about and ``train_dialogues`` trains on (both with seed 0)."""
    if n is None or n >= len(dialogues):
        return dialogues
    return random.Random(f"knowledge-{seed}").sample(dialogues, n)


def load_erc(benchmark: str, split: str, root: str | Path | None = None) -> list[Dialogue]:
    """Dialogues of ``split`` (train/dev/test). IEMOCAP and DailyDialog need ``root`` (your own copy)."""
    if benchmark == "meld":
        from emosynth.data.meld import read_meld

        return read_meld(split, root)
    if benchmark in ("emorynlp", "emorynlp-full"):
        from emosynth.data.emorynlp import read_emorynlp

        return read_emorynlp(split, "full" if benchmark.endswith("full") else "csv", root)
    if benchmark in ("iemocap", "dailydialog"):
        if root is None:
            raise ConfigError(f"{benchmark} is not shipped; pass --data-root with your own copy")
        if benchmark == "iemocap":
            from emosynth.data.iemocap import read_iemocap

            return read_iemocap(split, root)
        from emosynth.data.dailydialog import read_dailydialog

        return read_dailydialog(split, root)
    raise UnknownNameError(f"Unknown ERC benchmark '{benchmark}'; expected one of {', '.join(ERC_BENCHMARKS)}")


def load_split(benchmark: str, split: str, root: str | Path | None = None) -> list[Dialogue] | list[Example]:
    """Any benchmark's split: dialogues (ERC) or examples (GoEmotions; ISEAR with ``root`` = your ISEAR file,
    split by ``split_isear`` with seed 0; EmoContext with ``root`` = a folder of ``train/dev/test.txt``)."""
    if benchmark in ERC_BENCHMARKS:
        return load_erc(benchmark, split, root)
    if benchmark == "goemotions":
        from emosynth.data.goemotions import read_goemotions

        return read_goemotions(split, root)
    if benchmark in ("isear", "emocontext") and root is None:
        raise ConfigError(f"{benchmark} is not shipped; pass --data-root with your own copy")
    if benchmark == "isear":
        from emosynth.data.isear import read_isear, split_isear

        examples = read_isear(root)
        ids = set(split_isear(examples, seed=0)[split])
        return [ex for ex in examples if ex.id in ids]
    if benchmark == "emocontext":
        from emosynth.data.emocontext import read_emocontext

        return read_emocontext(Path(root) / f"{split}.txt")
    known = ", ".join((*ERC_BENCHMARKS, *EXAMPLE_BENCHMARKS))
    raise UnknownNameError(f"Unknown benchmark '{benchmark}'; expected one of {known}")


def taxonomy_name(benchmark: str) -> str:
    """The label set a benchmark is annotated in (``emorynlp-full`` uses EmoryNLP's)."""
    return "emorynlp" if benchmark.startswith("emorynlp") else benchmark
