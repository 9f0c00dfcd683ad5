"""Whether TODKAT's topic layer learns: per epoch, the topic's reconstruction (nats per word of a turn) and KL, the
per-turn head's loss and the dev score of each decoding, then the test score, of `emosynth train --model todkat`
runs given as RUN_DIR=LABEL (the label says which code made the run: the topic layer is code, not a run setting).
A reconstruction near log(vocabulary) per word (10.3 for MiniLM's 30,522 tokens) is a decoder that learned nothing
of the words; a KL near 0, a topic that carries nothing.

    .venv/bin/python benchmarks/todkat_topic.py out/todkat_pilot="zero bias, no pre-training" ...

Results: benchmarks/results/todkat_topic.json (runs named relative to the repository).
"""

import argparse
import json
import math
import time
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]


def summary(run: Path, label: str) -> dict:
    """What one run's results.json says of its topic layer, epoch by epoch, and of its scores."""
    result = json.loads((run / "results.json").read_text())
    train = result["stages"]["train"]
    return {
        "label": label,
        "run": run.resolve().relative_to(ROOT).as_posix(),
        "config": {k: result["config"].get(k) for k in ("benchmark", "train_dialogues", "seed", "knowledge")},
        "epochs": [
            {
                "epoch": h["epoch"],
                **h["loss_terms"],
                "dev_by_decoding": {k: round(v, 4) for k, v in h["dev_by_decoding"].items()},
            }
            for h in train["history"]
        ],
        "architecture": result.get("architecture"),
        "knowledge_coverage": (result["data"].get("knowledge") or {}).get("coverage"),
        "decoding": result.get("decoding"),
        "test_weighted_f1": round(result["weighted_f1"], 4),
        "train_seconds": round(train["train_seconds"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", help="RUN_DIR=LABEL")
    parser.add_argument("--note", default="", help="How the runs were made (machine load, what ran beside).")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "todkat_topic.json")
    args = parser.parse_args()
    runs = [summary(Path(spec.partition("=")[0]), spec.partition("=")[2]) for spec in args.runs]
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "uniform_reconstruction_minilm": round(math.log(30522), 2),
        "note": args.note,
        "runs": runs,
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps([{k: r[k] for k in ("label", "epochs", "test_weighted_f1")} for r in runs], indent=1))


if __name__ == "__main__":
    main()
