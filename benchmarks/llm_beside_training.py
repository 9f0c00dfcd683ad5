"""How fast an LLM job runs while training holds one core all along: the steady state of the background queues,
which run for hours side by side (``benchmarks/shared_cores.py`` times short jobs to the end of both, so the one
that ends last runs its last stretch alone).

Each LLM job runs alone on all cores, then beside a training run on one thread (``emosynth train --threads 1``,
started first and stopped when the LLM job ends, so it runs throughout) with the LLM on each thread count asked for.
Reported: wall seconds and the share of the rate alone. The jobs: a knowledge pass over a few MELD dev dialogues,
and best-of-4 EmoryNLP dialogues chosen by judges in the same process (the saved judges ``--judge`` names, e.g. the
ones ``--judge auto`` trains into runs/judges). Nothing is cached. Run it on an otherwise idle machine.

    .venv/bin/python benchmarks/llm_beside_training.py \
        --judge runs/judges/emorynlp_utterance_cw/model,runs/judges/emorynlp_context_cw/model
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
ENV = os.environ | {"HF_HUB_OFFLINE": "1"}


def jobs(tmp: Path, threads: int, judge: str | None, dialogues: int) -> dict[str, list[str]]:
    # a fresh output (and so a fresh cache beside it) for every run
    out = {"knowledge": [*EMOSYNTH, "knowledge", "meld:dev", "--dialogues", "2", "-o", str(tmp / f"k{threads}.jsonl")]}
    if judge:
        out["generate best-of-4"] = [
            *EMOSYNTH, "generate", "dialogues", "--taxonomy", "emorynlp", "--mode", "natural", "-n", str(dialogues),
            "--best-of", "4", "--judge", judge, "--no-cache", "--no-progress", "-o", str(tmp / f"g{threads}.jsonl"),
        ]  # fmt: skip
    return {name: [*cmd, "--n-threads", str(threads)] for name, cmd in out.items()}


def timed(cmd: list[str], limit: float | None = None) -> float | None:
    """``cmd``'s wall seconds; None when it was stopped at ``limit`` seconds."""
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return round(time.perf_counter() - start, 1)


def beside_training(cmd: list[str], tmp: Path, limit: float) -> float | None:
    """``cmd``'s wall seconds while a one-thread training run holds a core throughout (it starts 60 s earlier); None
    when stopped at ``limit``."""
    train = [*EMOSYNTH, "train", "--model", "compm", "--benchmark", "meld", "--max-length", "128", "--epochs", "3"]
    train += ["--threads", "1", "--no-progress", "-o", str(tmp / "train")]
    trainer = subprocess.Popen(train, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(60)  # past loading: training proper
        if trainer.poll() is not None:
            raise SystemExit(f"the training run ended early ({trainer.returncode}): {' '.join(train)}")
        seconds = timed(cmd, limit)
        if trainer.poll() is not None:
            raise SystemExit("the training run ended before the LLM job: not side by side throughout")
        return seconds
    finally:
        trainer.terminate()
        trainer.wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--judge", help="saved judge(s) for the best-of-4 job (comma-separated); without: knowledge only")
    p.add_argument("--dialogues", type=int, default=2)
    p.add_argument("--limit", type=float, default=4.0, help="stop a job beside training at this many times alone")
    p.add_argument("--threads", default="1,2", help="LLM threads beside training, comma-separated")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "llm_beside_training.json")
    args = p.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, cmd in jobs(tmp / "alone", cores, args.judge, args.dialogues).items():
            (tmp / "alone").mkdir(exist_ok=True)
            alone = timed(cmd)
            row = {"job": name, "alone_threads": cores, "alone_seconds": alone, "beside_training": []}
            for threads in map(int, args.threads.split(",")):
                side = tmp / f"side{threads}"
                side.mkdir(exist_ok=True)
                limit = args.limit * alone
                seconds = beside_training(jobs(side, threads, args.judge, args.dialogues)[name], side, limit)
                row["beside_training"].append(
                    {"llm_threads": threads, "seconds": seconds or f"stopped at {limit:.0f}"}
                    | {"share_of_rate_alone": round(alone / seconds, 3) if seconds else f"below {1 / args.limit:.2f}"}
                )
            rows.append(row)
            print(json.dumps(row))
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "training": "emosynth train --model compm --benchmark meld --max-length 128 --threads 1, throughout",
        "jobs": {
            "knowledge": "emosynth knowledge meld:dev --dialogues 2 (one utterance per call, no cache)",
            "generate best-of-4": f"emosynth generate dialogues --taxonomy emorynlp --mode natural -n {args.dialogues} "
            f"--best-of 4 --judge {args.judge} --no-cache"
            if args.judge
            else None,
        },
        "rows": rows,
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
