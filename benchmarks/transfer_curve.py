"""The transfer curve of issue 14: one row per finished run of a size/control experiment (by default
``experiments/scale/``, run with ``emosynth experiment``) -> ``benchmarks/results/transfer_curve.json``.

A row: benchmark, model, dataset (its name in the experiment; none for real only), synthetic_size (dialogues
pre-trained on; 0 for real only), selection (``none`` or ``best-of-n``, from the dataset's generation config),
control (``none``, ``shuffled-labels`` or ``real-warm-start``), seed, weighted_f1; plus the mean and spread per point
of the curve. Nothing is trained here: run the experiment first (it is resumable), then this. Prints the curve as
the README's Markdown table.

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
    by_point = defaultdict(list)  # unrounded scores: a point's mean is rounded once, as erc_f1.py does
    for p in points:
        by_point[tuple(p[k] for k in keys[:-1])].append(p["weighted_f1"])
    runs = [{k: p[k] for k in keys} | {"weighted_f1": round(p["weighted_f1"], 4)} for p in points]
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
    print(table(curve))


# the README's columns: (synthetic_size, selection, control) of each point of the curve
COLUMNS = {
    "real only": (0, "none", "none"),
    "+ 50": (50, "best-of-n", "none"),
    "+ 150": (150, "best-of-n", "none"),
    "+ 500": (500, "best-of-n", "none"),
    "+ 150, no selection": (150, "none", "none"),
    "control: 500, labels shuffled": (500, "best-of-n", "shuffled-labels"),
    "control: as many real turns": (500, "best-of-n", "real-warm-start"),
}
NAMES = {
    "meld": "MELD",
    "emorynlp": "EmoryNLP",
    "utterance": "utterance",
    "compm": "CoMPM",
    "context": "one-sequence",
    "todkat": "TODKAT",
}


def table(curve: list[dict]) -> str:
    """Markdown for the README: one line per benchmark and model, mean ± std per column (a point with one seed so far
    shows its score and says so), the best mean over more than one seed in bold."""
    cells: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for point in curve:
        where = (point["synthetic_size"], point["selection"], point["control"])
        column = next((name for name, at in COLUMNS.items() if at == where), None)
        if column is not None:
            cells[(point["benchmark"], point["model"])][column] = point
    lines = ["| benchmark | model | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 2) + "|"]
    order = list(NAMES)  # MELD first, then the models as the README lists them; others after, by name

    def rank(name: str) -> tuple[int, str]:
        return (order.index(name) if name in order else len(order), name)

    for (benchmark, model), row in sorted(cells.items(), key=lambda kv: (rank(kv[0][0]), rank(kv[0][1]))):
        best = max((p["mean"] for p in row.values() if p["seeds"] > 1), default=None)
        shown = []
        for column in COLUMNS:
            point = row.get(column)
            if not point:
                shown.append("pending")
            elif point["seeds"] == 1:
                shown.append(f"{point['mean']:.4f} (1 seed)")
            else:
                text = f"{point['mean']:.4f} ± {point['std']:.4f}"
                shown.append(f"**{text}**" if point["mean"] == best and column != "real only" else text)
        lines.append(f"| {NAMES.get(benchmark, benchmark)} | {NAMES.get(model, model)} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
