"""Training and an LLM job on one machine: one after the other on all cores, or side by side on one core each
(``emosynth experiment/train --threads 1`` beside ``emosynth knowledge/generate --n-threads 1``).

The two workloads, each a fresh process with nothing cached: a CoMPM run on MELD (a seeded sample of train
dialogues, one epoch, dev and test scored: a small grid cell) and a knowledge pass over the utterances of a few
MELD dev dialogues. Each runs alone on all cores, then both at once on one core each. Reported: every wall time,
each job's rate side by side as a share of its rate alone, and their sum (above 1: side by side gets more done).
Run it on an otherwise idle machine.

    .venv/bin/python benchmarks/shared_cores.py [--train-dialogues 100] [--knowledge-dialogues 6]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
EMOSYNTH = [sys.executable, "-m", "emosynth"]


def commands(tmp: Path, threads: int, args: argparse.Namespace) -> dict[str, list[str]]:
    train = ["train", "--model", "compm", "--benchmark", "meld", "--max-length", "128", "--epochs", "1"]
    train += ["--train-dialogues", str(args.train_dialogues), "--threads", str(threads), "--no-progress"]
    knowledge = ["knowledge", "meld:dev", "--dialogues", str(args.knowledge_dialogues), "--n-threads", str(threads)]
    return {
        "training": [*EMOSYNTH, *train, "-o", str(tmp / f"train_{threads}")],
        "knowledge": [*EMOSYNTH, *knowledge, "-o", str(tmp / f"knowledge_{threads}.jsonl")],
    }


def timed(jobs: dict[str, list[str]]) -> dict[str, float]:
    """Start ``jobs`` together; the wall seconds of each."""
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    running = {name: subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL) for name, cmd in jobs.items()}
    seconds = {}
    while running:
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                if proc.returncode:
                    raise SystemExit(f"{name} failed ({proc.returncode}): {' '.join(jobs[name])}")
                seconds[name] = round(time.perf_counter() - start, 1)
                del running[name]
        time.sleep(0.5)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-dialogues", type=int, default=100)
    parser.add_argument("--knowledge-dialogues", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shared_cores.json")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        every = commands(Path(tmp), cores, args)
        alone = {name: timed({name: cmd})[name] for name, cmd in every.items()}
        side = timed(commands(Path(tmp), 1, args))
        answered = sum(1 for _ in open(Path(tmp) / "knowledge_1.jsonl"))
    shares = {name: round(alone[name] / side[name], 3) for name in alone}
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "workloads": {
            "training": f"emosynth train --model compm --benchmark meld --max-length 128 --epochs 1 "
            f"--train-dialogues {args.train_dialogues} (dev and test scored)",
            "knowledge": f"emosynth knowledge meld:dev --dialogues {args.knowledge_dialogues} "
            f"({answered} utterances, nothing cached)",
        },
        "alone_seconds": {f"{name} ({cores} threads)": s for name, s in alone.items()},
        "side_by_side_seconds": {f"{name} (1 thread)": s for name, s in side.items()},
        "share_of_rate_alone": shares,
        "work_done_side_by_side": round(sum(shares.values()), 3),
        "one_after_the_other_seconds": round(sum(alone.values()), 1),
        "side_by_side_wall_seconds": max(side.values()),
        "note": "share: a job's rate side by side (one core) as a share of its rate alone (all cores); their sum is "
        "the work done per unit of time side by side, relative to running the jobs one after the other",
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
