"""TODKAT's knowledge pass (``emosynth knowledge``): utterances covered, LLM calls and seconds per benchmark split,
read from the summaries beside the knowledge files, with the distinct utterances of the whole split and the time
the whole split would take at the measured rate.

    .venv/bin/python benchmarks/knowledge_pass.py data/knowledge/meld_train_20.jsonl:meld:train ...
"""

import argparse
import json
import time
from pathlib import Path

from machine import describe

from emosynth.data.benchmarks import load_split
from emosynth.synth.knowledge import utterances

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", help="KNOWLEDGE.jsonl:BENCHMARK:SPLIT")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "knowledge.json")
    args = parser.parse_args()
    rows = []
    for spec in args.files:
        path, benchmark, split = spec.split(":")
        summary = json.loads(Path(path).with_suffix(".summary.json").read_text())
        total = len(utterances(load_split(benchmark, split)))
        per_hour = 3600 * summary["new"] / summary["seconds"] if summary["seconds"] else None
        rows.append(
            {
                "knowledge": Path(path).as_posix(),
                "benchmark": benchmark,
                "split": split,
                "utterances_asked": summary["utterances"],
                "utterances_covered": summary["covered"],
                "without_inferences": summary["failed"],
                "llm_calls": summary["llm_calls"],
                "per_call": summary["per_call"],
                "generated_tokens": summary["generated_tokens"],
                "seconds": summary["seconds"],
                "utterances_per_hour": round(per_hour, 1) if per_hour else None,
                "split_distinct_utterances": total,
                "whole_split_hours_at_this_rate": round(total / per_hour, 1) if per_hour else None,
            }
        )
    result = {"measured": time.strftime("%Y-%m-%d"), "runs": rows, "machine": describe()}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
