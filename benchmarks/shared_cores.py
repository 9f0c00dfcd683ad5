"""Training and an LLM job on one machine: one after the other on all cores, or side by side on one core each
(``emosynth experiment/train --threads 1`` beside ``emosynth knowledge/generate --n-threads 1``).

The two workloads, each a fresh process with nothing cached but the files read once beforehand: a CoMPM run on
MELD (a seeded sample of train dialogues, one epoch, dev and test scored: a small grid cell) and a knowledge pass
over the utterances of a few MELD dev dialogues, sized to outlast the training side by side. Each runs alone on all
cores, then both at once on one core each. Reported: every wall time; each job's rate side by side, while both
run, as a share of its rate alone (the knowledge pass's from the lines it had written when the training ended);
their sum (above 1: side by side gets more done); and the plain ratio of the two wall times, which counts the
knowledge pass's last stretch alone on one core against side by side. Run it on an otherwise idle machine.

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


def lines(path: Path) -> int:
    return sum(1 for _ in open(path)) if path.exists() else 0


def timed(jobs: dict[str, list[str]], outputs: dict[str, Path]) -> tuple[dict[str, float], dict[str, dict[str, int]]]:
    """Start ``jobs`` together; the wall seconds of each, and when each ended, the lines the others had written to
    their ``outputs``."""
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    running = {name: subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL) for name, cmd in jobs.items()}
    seconds, written = {}, {}
    while running:
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                if proc.returncode:
                    raise SystemExit(f"{name} failed ({proc.returncode}): {' '.join(jobs[name])}")
                seconds[name] = round(time.perf_counter() - start, 1)
                del running[name]
                written[name] = {other: lines(outputs[other]) for other in running if other in outputs}
        time.sleep(0.2)
    return seconds, written


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
    parser.add_argument("--train-dialogues", type=int, default=100)
    parser.add_argument("--knowledge-dialogues", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "shared_cores.json")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    warm()
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {"knowledge": Path(tmp) / f"knowledge_{cores}.jsonl"}
        every = commands(Path(tmp), cores, args)
        alone = {name: timed({name: cmd}, outputs)[0][name] for name, cmd in every.items()}
        answered_alone = lines(outputs["knowledge"])
        outputs = {"knowledge": Path(tmp) / "knowledge_1.jsonl"}
        side, written = timed(commands(Path(tmp), 1, args), outputs)
        answered = lines(outputs["knowledge"])
    if side["knowledge"] <= side["training"]:
        raise SystemExit("the knowledge pass ended before the training: ask for more --knowledge-dialogues")
    overlap = {"training": alone["training"] / side["training"]}
    by_then = written["training"]["knowledge"]  # lines the knowledge pass had written when the training ended
    overlap["knowledge"] = (by_then / side["training"]) / (answered_alone / alone["knowledge"])
    shares = {name: round(v, 3) for name, v in overlap.items()}
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
        "knowledge_lines_when_training_ended": by_then,
        "share_of_rate_alone_while_both_run": shares,
        "work_done_side_by_side": round(sum(overlap.values()), 3),
        "one_after_the_other_seconds": round(sum(alone.values()), 1),
        "side_by_side_wall_seconds": max(side.values()),
        "wall_ratio": round(sum(alone.values()) / max(side.values()), 3),
        "note": "share: a job's rate side by side (one core), while both run, as a share of its rate alone (all "
        "cores); their sum is the work done per unit of time side by side, relative to one after the other. "
        "wall_ratio also counts the knowledge pass's last stretch alone on one core after the training ended.",
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
