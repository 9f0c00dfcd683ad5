"""TODKAT's knowledge pass (``emosynth knowledge``): per invocation, what it was asked for, utterances answered,
LLM calls, seconds and the CPU it ran on (from the summary beside each knowledge file, which keeps every invocation,
killed ones as of their last save); per benchmark split, how many of its distinct utterances the file covers and
the hours the whole split takes at the file's rate.

    .venv/bin/python benchmarks/knowledge_pass.py data/knowledge/meld.jsonl:meld:dev,test,train@200 ...

A split written ``train@200`` is the seeded sample of 200 dialogues that ``--dialogues 200`` asked for (and that
``train_dialogues: 200`` trains on).
"""

import argparse
import json
import time
from pathlib import Path

from machine import describe

from emosynth.data.benchmarks import load_split
from emosynth.data.io import sidecar
from emosynth.data.knowledge import knowledge_key, read_knowledge
from emosynth.synth.knowledge import utterances

ROOT = Path(__file__).resolve().parents[1]


def per_hour(count: float, seconds: float) -> float | None:
    return round(3600 * count / seconds, 1) if seconds else None


def passes(path: Path) -> tuple[list[dict], dict]:
    """Every invocation of ``emosynth knowledge`` that wrote ``path``, and their sums."""
    saved = json.loads(sidecar(path, "summary.json").read_text())
    runs = saved.get("runs", [saved])  # a summary of one invocation, as written before 2026-12-02
    rows = [
        {
            "knowledge": path.as_posix(),
            **{k: run.get(k) for k in ("data", "dialogues", "seed", "llm", "cpu", "cores", "finished")},
            "utterances_answered": run["new"],
            "without_inferences": run["failed"],
            **{k: run[k] for k in ("llm_calls", "per_call", "generated_tokens", "seconds")},
            "utterances_per_hour": per_hour(run["new"], run["seconds"]),
        }
        for run in runs
    ]
    total = saved.get("total", {k: saved.get(k) for k in ("new", "llm_calls", "generated_tokens", "seconds")})
    return rows, total


def coverage(path: Path, known: set[str], benchmark: str, split: str, rate: float | None) -> dict:
    """How many of the split's distinct utterances (of its sample, for ``train@N``) are ``known`` (have inferences
    in ``path``)."""
    name, _, dialogues = split.partition("@")
    size, loaded = int(dialogues) if dialogues else None, load_split(benchmark, name)
    wanted = {knowledge_key(t) for _, t in utterances(loaded, size)}
    whole = len(utterances(loaded))
    return {
        "knowledge": path.as_posix(),
        "benchmark": benchmark,
        "split": name,
        "dialogues": size or len(loaded),
        "distinct_utterances": len(wanted),
        "covered": len(wanted & known),
        "whole_split_distinct_utterances": whole,
        "whole_split_hours_at_this_rate": round(whole / rate, 1) if rate else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", help="KNOWLEDGE.jsonl:BENCHMARK:SPLIT[@DIALOGUES][,SPLIT...]")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "knowledge.json")
    args = parser.parse_args()
    rows, splits = [], []
    for spec in args.files:
        path, benchmark, names = spec.split(":")
        runs, total = passes(Path(path))
        rows += runs
        rate = per_hour(total["new"], total["seconds"])
        known = {key for key, relations in read_knowledge(path).items() if relations}
        splits += [coverage(Path(path), known, benchmark, name, rate) for name in names.split(",")]
    result = {"measured": time.strftime("%Y-%m-%d"), "passes": rows, "splits": splits, "machine": describe()}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(splits, indent=1))


if __name__ == "__main__":
    main()
