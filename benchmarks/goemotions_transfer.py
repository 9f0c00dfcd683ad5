"""Emo Pillars transfer to GoEmotions (issue 13, section 4): runs the experiments named below (resumable: finished
cells are skipped) and collects their runs into ``benchmarks/results/goemotions_transfer.json``.

Each experiment is a grid of ``emosynth experiment`` (``experiments/<name>/config.yaml``): one input format
(context-less examples with the utterance model, contextual ones with the one-sequence context model), the
regimes real / synthetic->real (/ mixed), 3 seeds, a seeded sample of ``train_size`` real train examples. A row per
run: regime, input, train_size, seed, macro_f1 (test, per-label thresholds tuned on dev), the synthetic data it
used; per experiment the Friedman test over its regimes (when there are at least 3) and the mean per regime.

    .venv/bin/python benchmarks/goemotions_transfer.py [--collect-only] [EXPERIMENT ...]
"""

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "goemotions_transfer.json"
EXPERIMENTS = (
    "pillars_goemotions_1k_contextless",
    "pillars_goemotions_5k_contextless",
    "pillars_goemotions_1k_contextual",
)
INPUT = {"utterance": "contextless", "context": "contextual"}


def collect(name: str, run: bool) -> dict:
    """Run (unless ``run`` is False) and collect one experiment."""
    from emosynth.experiment.config import ExperimentConfig
    from emosynth.experiment.runner import collect as collect_cells
    from emosynth.experiment.runner import run_experiment

    root = ROOT / "experiments" / name
    config = ExperimentConfig.load(root / "config.yaml")
    rows, stats = run_experiment(config, root) if run else collect_cells(config, root)
    runs = [
        {
            "regime": r["regime"],
            "input": INPUT[r["model"]],
            "train_size": r["train_size"],
            "seed": r["seed"],
            "macro_f1": round(r["score"], 4),
            "synthetic": r["synthetic"],
            "n_synthetic": r["n_synthetic"] or 0,
            "train_seconds": round(r["train_seconds"], 1),
            "experiment": f"experiments/{name}",
        }
        for r in rows
    ]
    means = {}
    for regime in config.regimes:
        scores = [r["macro_f1"] for r in runs if r["regime"] == regime]
        if scores:
            spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
            means[regime] = {"mean": round(statistics.mean(scores), 4), "std": round(spread, 4), "seeds": len(scores)}
    return {"runs": runs, "macro_f1_by_regime": means, "friedman": stats, "cells": len(config.cells())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("experiments", nargs="*", default=list(EXPERIMENTS))
    parser.add_argument("--collect-only", action="store_true", help="do not train; collect what has finished")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    previous = json.loads(OUT.read_text()) if OUT.exists() else {"experiments": {}}
    experiments = previous["experiments"]
    for name in args.experiments:
        # collecting alone trains nothing: the runs keep the date they were measured on
        measured = experiments.get(name, {}).get("measured") if args.collect_only else None
        experiments[name] = collect(name, not args.collect_only) | {"measured": measured or time.strftime("%Y-%m-%d")}
    result = {
        "benchmark": "goemotions",
        "metric": "macro_f1 on the test split (5,427 examples); per-label thresholds tuned on dev",
        "runs": [r for e in experiments.values() for r in e["runs"]],
        "experiments": experiments,
        "machine": describe(),
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    for name, e in experiments.items():
        print(name, json.dumps(e["macro_f1_by_regime"]), "friedman:", e["friedman"].get("p_value", e["friedman"]))


if __name__ == "__main__":
    main()
