"""The transfer curve of issue 14: one row per finished run of a size/control experiment (by default
``experiments/scale/``, run with ``emosynth experiment``) -> ``benchmarks/results/transfer_curve.json``.

A row: benchmark, model, dataset (its name in the experiment; none for real only), synthetic_size (dialogues
pre-trained on; 0 for real only), selection (``none`` or ``best-of-n``, from the dataset's generation config),
control (``none``, ``shuffled-labels`` or ``real-warm-start``), seed, weighted_f1; plus the mean and spread per point
of the curve. Nothing is trained here: run the experiment first (it is resumable), then this.

    .venv/bin/python benchmarks/transfer_curve.py [experiments/scale] [--out FILE]
"""

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "transfer_curve.json"


def main() -> None:
    from emosynth.experiment.config import ExperimentConfig
    from emosynth.experiment.curve import curve_points
    from emosynth.experiment.runner import collect

    parser = argparse.ArgumentParser()
    parser.add_argument("experiment", nargs="?", type=Path, default=ROOT / "experiments" / "scale")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    config = ExperimentConfig.load(args.experiment / "config.yaml", only=()).ready()  # benchmarks whose data exist
    rows, stats = collect(config, args.experiment)
    keys = ("benchmark", "model", "dataset", "synthetic_size", "selection", "control", "seed")
    points = curve_points(config, rows)
    runs = [{k: p[k] for k in keys} | {"weighted_f1": p["weighted_f1"]} for p in points]
    by_point = defaultdict(list)
    for r in runs:
        by_point[tuple(r[k] for k in keys[:-1])].append(r["weighted_f1"])
    curve = [
        dict(zip(keys[:-1], point))
        | {
            "seeds": len(scores),
            "mean": round(statistics.mean(scores), 4),
            "std": round(statistics.stdev(scores), 4) if len(scores) > 1 else 0.0,
        }
        for point, scores in sorted(by_point.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
    ]
    where = args.experiment.resolve()
    result = {
        "experiment": where.relative_to(ROOT).as_posix() if where.is_relative_to(ROOT) else str(args.experiment),
        "metric": "weighted_f1 on the real test split",
        "runs": runs,
        "curve": curve,
        "friedman": stats,
        "measured": time.strftime("%Y-%m-%d"),
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for point in curve:
        print(json.dumps(point))


if __name__ == "__main__":
    main()
