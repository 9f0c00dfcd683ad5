"""Emo Pillars generation cost, from the summary of a run of ``emosynth generate pillars`` (by default the committed
sample in ``data/samples/``): LLM calls, generated tokens and wall time per accepted example (context-less and
contextual both count, as in the paper's 700K calls for 400K examples).

A sample made over several sessions is several invocations: each invocation that made LLM calls is appended to
``runs`` (the ones already recorded are recognised by their summary); calls, tokens and time are summed over them
and divided by the examples the sample has now (after filters and rating: the accepted ones). A sample made with
other settings (prompt versions, utterances per call, ...) starts a new record; the one before is kept, without its
invocation rows, under ``earlier_samples``.

A run stopped before its end writes no summary; with ``--cache`` (the sample's response cache) the cost is counted
from the cache instead, which holds every request that was answered, by whichever invocation: calls per stage
(told by their prompt), generated tokens, and the generating time (the spans between answers, a pause of more than
10 minutes ending a span). Such a record covers the answers created after the last one a cache record counted
(``last_answer``), so the cost of a sample made over several sessions adds up, also when its cache was started
again in between (a record without ``last_answer`` came from an earlier cache: the new cache's answers are added).

With ``--rater`` (the classifier the sample was rated with), its ceiling on real GoEmotions is added: macro-F1 and
per-label recall on a label-balanced sample (20 examples per label), at the rater's own per-label thresholds (tuned
on dev, so the sample is drawn from test) or else at the run's label threshold (sample from dev).

With ``--llm-fidelity`` (the report of ``emosynth verify DATA --llm``), the LLM rater's own figures are added under
``llm_rater``: how many of the sample's examples it confirms, and its ceiling on a label-balanced sample of real
GoEmotions dev (``--ceiling-per-label`` examples per label; nothing of it was tuned on dev); when the report also has
the classifier (``verify DATA --classifier RUN/model --llm``), the two combined under ``combined_rater`` (its ceiling on
test: the classifier's thresholds were tuned on dev).

    .venv/bin/python benchmarks/pillars_generation.py [--summary data/samples/pillars.summary.json] [--rater RUN/model]
        [--cache runs/pillars/pillars.cache.sqlite] [--llm-fidelity runs/pillars_llm_rater.fidelity.json]
"""

import argparse
import json
import time
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("per_call", "contexts_per_call", "calls_per_passage", "passage_words", "prompt_versions")


def row(summary: dict) -> dict:
    """What one invocation cost and added."""
    stages = summary["stages"]
    return {
        "new_contextless_examples": summary["new_contextless_examples"],
        "new_contextual_examples": summary.get("new_contextual_examples"),
        "llm_calls": summary["llm_calls"],
        "calls_per_stage": {name: s["calls"] - s["cached"] for name, s in stages.items()},
        "generated_tokens": sum(s["completion_tokens"] for s in stages.values()),
        "wall_seconds": summary["wall_seconds"],
    }


STAGE_MARKERS = {"characters": "List up to", "utterances": "different things", "context": " says: "}


def from_cache(path: Path, after: float = 0.0) -> dict:
    """The cost of the requests answered after ``after`` (a time stamp) in a response cache (see the docstring)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        query = "SELECT request, response, created FROM responses WHERE created > ? ORDER BY created"
        rows = db.execute(query, (after,)).fetchall()
    per_stage = {name: 0 for name in STAGE_MARKERS} | {"other": 0}
    tokens, seconds, last = 0, 0.0, None
    for request, response, created in rows:
        prompt = json.loads(request)["messages"][-1]["content"]
        per_stage[next((k for k, m in STAGE_MARKERS.items() if m in prompt), "other")] += 1
        completion = json.loads(response)
        tokens += completion["completion_tokens"]
        seconds += (created - last) if last is not None and created - last < 600 else completion["seconds"]
        last = created
    return {
        "source": "response cache",
        "llm_calls": len(rows),
        "calls_per_stage": per_stage,
        "generated_tokens": tokens,
        "wall_seconds": round(seconds, 1),
        "last_answer": rows[-1][2] if rows else after,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--summary", type=Path, default=ROOT / "data" / "samples" / "pillars.summary.json")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pillars_generation.json")
    parser.add_argument("--rater", default=None, help="classifier whose ceiling on GoEmotions dev to add")
    parser.add_argument("--cache", type=Path, default=None, help="count the cost from this response cache")
    parser.add_argument("--llm-fidelity", type=Path, default=None, help="report of `emosynth verify DATA --llm`")
    args = parser.parse_args()
    summary = json.loads(args.summary.read_text())
    config = json.loads(args.summary.with_name("pillars.config.json").read_text())
    previous = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
    settings = {k: config.get(k) for k in SETTINGS}
    earlier = previous.get("earlier_samples", [])
    if previous["runs"] and previous.get("settings") != settings:
        earlier.append({k: v for k, v in previous.items() if k not in ("runs", "earlier_samples")})
        previous = {"runs": []}
    runs = previous["runs"]
    if args.cache is not None:  # the answers no earlier cache record counted
        counted = from_cache(args.cache, max((r.get("last_answer", 0.0) for r in runs), default=0.0))
        if counted["llm_calls"]:
            runs.append(counted | {"measured": time.strftime("%Y-%m-%d"), "machine": describe()})
    elif any("last_answer" in r for r in runs):  # counted from caches: the summary's row would count a run twice
        print("the runs were counted from response caches: pass --cache to add new ones")
    elif summary["llm_calls"] and not any({k: r.get(k) for k in row(summary)} == row(summary) for r in runs):
        this = row(summary) | {"measured": time.strftime("%Y-%m-%d"), "machine": describe()}
        runs.append(this)  # an invocation without calls only re-filtered or re-rated the sample
    accepted = summary["contextless_examples"] + summary["contextual_examples"]
    calls = sum(r["llm_calls"] for r in runs)
    tokens = sum(r["generated_tokens"] for r in runs)
    seconds = sum(r["wall_seconds"] for r in runs)
    result = {
        "sample": args.summary.relative_to(ROOT).as_posix() if args.summary.is_relative_to(ROOT) else str(args.summary),
        "model": config["model"],
        "backend": config["backend"],
        "llm_calls": calls,
        "accepted_examples": accepted,
        "contextless_examples": summary["contextless_examples"],
        "contextual_examples": summary["contextual_examples"],
        "calls_per_accepted_example": round(calls / accepted, 3) if accepted else None,
        "generated_tokens_per_accepted_example": round(tokens / accepted, 1) if accepted else None,
        "examples_per_hour": round(3600 * accepted / seconds, 1) if seconds else None,
        "rater": summary["rater"],
        "dropped_examples": summary["dropped_examples"],
        "targets": summary.get("targets"),  # per target emotion: utterances written, examples accepted
        "settings": settings,
        "runs": runs,
        "earlier_samples": earlier,
        "machine": describe(),
    }
    if args.rater:
        from emosynth.data.benchmarks import load_split
        from emosynth.quality.raters import ClassifierRater, rater_ceiling

        rater = ClassifierRater(args.rater)
        split = "test" if rater.thresholds else "dev"  # thresholds tuned on dev are measured elsewhere
        result["rater_ceiling"] = rater_ceiling(rater, load_split("goemotions", split), 20, config["label_threshold"])
        result["rater_ceiling"]["real"] = f"goemotions:{split}"
    elif "rater_ceiling" in previous and previous.get("rater") == result["rater"]:
        result["rater_ceiling"] = previous["rater_ceiling"]
    report = json.loads(args.llm_fidelity.read_text()) if args.llm_fidelity else None
    for name, key in (("llm", "llm_rater"), ("combined", "combined_rater")):
        judge = report["judges"].get(name) if report else None
        if judge:
            result[key] = {
                "rater": judge["model"],
                "examples": report["data"],
                "confirmed": judge["agreement"]["confirmed"],
                "of": judge["agreement"]["n"],
                "ceiling": judge["ceiling"],
                "measured": time.strftime("%Y-%m-%d", time.localtime(args.llm_fidelity.stat().st_mtime)),
            }
        elif key in previous:
            result[key] = previous[key]
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
