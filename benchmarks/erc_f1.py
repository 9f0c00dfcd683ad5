"""Collect the results JSON of ERC training runs into ``benchmarks/results/erc_f1.json``.

.venv/bin/python benchmarks/erc_f1.py runs/*/results.json
"""

import json
import sys
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "erc_f1.json"
KEYS = ("benchmark", "model", "regime", "seed", "weighted_f1", "macro_f1")


def summarize(path: Path) -> dict:
    r = json.loads(path.read_text())
    row = {k: r[k] for k in KEYS}
    train = r["stages"]["train"]
    row |= {
        "data": r["data"],
        "epochs": r["config"]["training"]["epochs"],
        "class_weights": r["config"]["training"]["class_weights"],
        "train_seconds": round(sum(s["train_seconds"] for s in r["stages"].values()), 1),
        "train_examples_per_s": round(train["train_examples_per_s"], 2),
        "inference_examples_per_s": round(r["test"]["inference_examples_per_s"], 2),
        "best_dev_score": train["best_dev_score"],
        "per_class_f1": {k: round(v["f1"], 4) for k, v in r["test"]["per_class"].items()},
        "run": str(path.resolve().parent.relative_to(ROOT)),
        "max_length": r["config"].get("max_length"),
    }
    return row


if __name__ == "__main__":
    runs = [summarize(Path(p)) for p in sys.argv[1:]]
    for row in runs:
        row["machine"] = describe()
    OUT.write_text(json.dumps(runs, indent=1) + "\n")
    print(json.dumps([{k: r[k] for k in KEYS} for r in runs], indent=1))
