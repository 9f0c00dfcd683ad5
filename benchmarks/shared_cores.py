"""Training and an LLM job on one machine: one after the other on all cores, or side by side, training on fewer
threads (``emosynth experiment/train --threads 1``) beside the LLM job (``emosynth knowledge/generate``, all cores
by default, ``--n-threads``).

The two workloads, each a fresh process with nothing cached but the files read once beforehand: a CoMPM run on
MELD (a seeded sample of train dialogues, one epoch, dev and test scored: a small grid cell) and a knowledge pass
over the utterances of a few MELD dev dialogues. Each runs alone on all cores, then both at once. Reported: every
wall time, each job's rate side by side as a share of its rate alone (over its whole run, so the one that ends
last has its last stretch alone), and the headline: the time of one after the other over the time side by side
(above 1: side by side gets the same work done sooner). Run it on an otherwise idle machine.

    .venv/bin/python benchmarks/shared_cores.py [--side 1,1 --side 1,2] [--train-dialogues 100]
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


def commands(tmp: Path, train_threads: int, llm_threads: int, args: argparse.Namespace) -> dict[str, list[str]]:
    train = ["train", "--model", "compm", "--benchmark", "meld", "--max-length", "128", "--epochs", "1"]
    train += ["--train-dialogues", str(args.train_dialogues), "--threads", str(train_threads), "--no-progress"]
    knowledge = ["knowledge", "meld:dev", "--dialogues", str(args.knowledge_dialogues), "--n-threads", str(llm_threads)]
    return {
        "training": [*EMOSYNTH, *train, "-o", str(tmp / f"train_{train_threads}")],
        "knowledge": [*EMOSYNTH, *knowledge, "-o", str(tmp / f"knowledge_{llm_threads}_{train_threads}.jsonl")],
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
        time.sleep(0.2)
    return seconds


def warm() -> None:
    """Read the LLM and the benchmark files once, so that no run pays for the first read from disk."""
    from emosynth.data.benchmarks import load_split
    from emosynth.llm.embedded import resolve_model
    from emosynth.train.models import default_backbone

    for path in (resolve_model(None)[0], *Path(default_backbone()).rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 24):
                    pass
    for split in ("train", "dev", "test"):
        load_split("meld", split)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--side", action="append", help="TRAIN_THREADS,LLM_THREADS side by side (repeatable; default 1,1 and 1,N)"
    )
    parser.add_argument("--train-dialogues", type=int, default=100)
    parser.add_argument("--knowledge-dialogues", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shared_cores.json")
    args = parser.parse_args()
    args.side = args.side or ["1,1", f"1,{os.cpu_count() or 1}"]
    cores = os.cpu_count() or 1
    warm()
    with tempfile.TemporaryDirectory() as tmp:
        every = commands(Path(tmp) / "alone", cores, cores, args)
        alone = {name: timed({name: cmd})[name] for name, cmd in every.items()}
        answered = sum(1 for _ in open(every["knowledge"][-1]))
        sides = []
        for setting in args.side:
            threads = dict(zip(("training", "knowledge"), map(int, setting.split(","))))
            side = timed(commands(Path(tmp) / setting, threads["training"], threads["knowledge"], args))
            sides.append(
                {
                    "threads": threads,
                    "seconds": side,
                    "share_of_rate_alone": {name: round(alone[name] / side[name], 3) for name in alone},
                    "wall_seconds": max(side.values()),
                    "speedup": round(sum(alone.values()) / max(side.values()), 3),
                }
            )
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "workloads": {
            "training": f"emosynth train --model compm --benchmark meld --max-length 128 --epochs 1 "
            f"--train-dialogues {args.train_dialogues} (dev and test scored)",
            "knowledge": f"emosynth knowledge meld:dev --dialogues {args.knowledge_dialogues} "
            f"({answered} utterances, nothing cached)",
        },
        "alone_seconds": alone,
        "alone_threads": cores,
        "one_after_the_other_seconds": round(sum(alone.values()), 1),
        "side_by_side": sides,
        "note": "speedup: one after the other (all cores each) over side by side (wall time until both ended)",
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
