"""Where the real benchmark data lives: ``$EMOSYNTH_DATA``, else ``../shared/data`` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

from emosynth.errors import ConfigError


def shown(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies inside it (results that read the same anywhere)."""
    p = Path(path).resolve()
    return str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(path)


def data_root() -> Path:
    """The benchmark data folder; raises with the fix when none is found."""
    if env := os.environ.get("EMOSYNTH_DATA"):
        return Path(env)
    here = Path(__file__).resolve()
    candidates = [Path.cwd().parent / "shared" / "data", here.parents[3].parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    raise ConfigError("Benchmark data not found; set EMOSYNTH_DATA to the folder holding meld/, emorynlp/, ...")
