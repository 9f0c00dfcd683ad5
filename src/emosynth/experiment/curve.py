"""The transfer curve: the real-test score against the size of the synthetic set pre-trained on.

A point is one finished run: its synthetic size in records (dialogues or examples; 0 for real only), whether the
data was made with best-of-n turn selection (``selection``, read from the dataset's ``.config.json`` sidecar) and
whether it was a control (``control``: the experiment's ``controls``). ``benchmarks/transfer_curve.py`` writes the
points as JSON; ``emosynth report`` draws them (``report.build.curve_plot``) for experiments with ``sizes`` or
``controls``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emosynth.data.io import iter_jsonl, sidecar
from emosynth.experiment.config import ExperimentConfig

CURVE_REGIMES = ("real", "synthetic->real")


def selection_of(path: str) -> str:
    """``best-of-n`` when the dataset at ``path`` was generated choosing among several candidates per turn, else
    ``none`` (also for data without a generation config)."""
    config = sidecar(Path(path), "config.json")
    if not config.is_file():
        return "none"
    return "best-of-n" if json.loads(config.read_text(encoding="utf-8")).get("best_of", 1) > 1 else "none"


def records_in(path: str) -> int:
    """Records in a JSONL file (as ``read_records`` counts them: a line cut short by a kill is not one)."""
    return sum(1 for _ in iter_jsonl(path))


def curve_points(config: ExperimentConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per finished run of a curve regime (real, synthetic->real), in the rows' order."""
    paths = {p for sets in config.synthetic.values() for p in sets.values()}
    known = {p: (records_in(p), selection_of(p)) for p in paths}  # each file read once per call
    points = []
    for r in rows:
        if r["regime"] not in CURVE_REGIMES:
            continue
        dataset, path = r["dataset"], config.synthetic.get(r["benchmark"], {}).get(r["dataset"] or "")
        records, selection = known[path] if path is not None else (0, "none")
        size = min(config.sizes.get(dataset, records), records)
        points.append(
            {
                "benchmark": r["benchmark"],
                "model": r["model"],
                "dataset": dataset,
                "synthetic_size": size,
                "selection": selection,
                "control": config.controls.get(dataset, "none") if dataset else "none",
                "seed": r["seed"],
                "metric": r["metric"],
                r["metric"]: r["score"],  # unrounded: means over seeds are taken from these
            }
        )
    return points
