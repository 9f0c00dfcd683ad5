"""ERC benchmarks by name: their splits as dialogues, with a configurable root."""

from __future__ import annotations

from pathlib import Path

from emosynth.errors import ConfigError, UnknownNameError
from emosynth.records import Dialogue

ERC_BENCHMARKS = ("meld", "emorynlp", "emorynlp-full", "iemocap", "dailydialog")


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


def taxonomy_name(benchmark: str) -> str:
    return "emorynlp" if benchmark.startswith("emorynlp") else benchmark
