"""What TODKAT's knowledge prompt writes, and at what speed: the same distinct utterances of a benchmark split (in
dialogue order, so neighbours come from one dialogue) asked with several utterances per call and with one, side by
side in one run on the embedded model, no cache. Besides utterances per hour it counts what the prompt is for:

- copied: neighbouring utterances given the same inference of three words or more for xIntent, xWant or xEffect
  (several lines in one reply let the model copy from line to line);
- feelings: xIntent, xWant and xEffect inferences that contain an emotion word (``resources/emotion_words.yaml``,
  every label's forms): an ablation that keeps only these relations should not read the LLM's guess of the emotion;
- to: xIntent and xWant phrased "to ...", as ATOMIC phrases them;
- distinct: distinct inferences per relation over all utterances (generic answers repeat).

``--reference FILE`` reads the same counts from a knowledge file written before (e.g. by an earlier prompt: its
name is in the summary beside it) for the utterances it has.

    .venv/bin/python benchmarks/knowledge_prompt.py --split meld:dev -n 60 --per-call 4,1 \\
        --reference /tmp/meld_v1.jsonl
Results: benchmarks/results/knowledge_prompt.json.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from machine import describe

from emosynth.data.benchmarks import load_split
from emosynth.data.io import sidecar
from emosynth.data.knowledge import Knowledge, read_knowledge
from emosynth.llm.options import backend_options, open_backend
from emosynth.records import ATOMIC_RELATIONS
from emosynth.synth.knowledge import PROMPT, utterances, write_knowledge
from emosynth.taxonomy import emotion_words
from emosynth.text import words

ROOT = Path(__file__).resolve().parents[1]
PLAIN = ("xIntent", "xWant", "xEffect")  # the relations that say what happens, not how anyone feels


def counts(texts: list[str], knowledge: Knowledge) -> dict:
    """The module docstring's counts over ``texts`` (in order) that ``knowledge`` has inferences for."""
    feeling = frozenset().union(*emotion_words().values())
    rows = [found for t in texts if (found := knowledge.find(t))]
    pairs = list(zip(rows, rows[1:]))
    copied = sum(any((v := a.get(r)) and v == b.get(r) and len(words(v)) >= 3 for r in PLAIN) for a, b in pairs)
    plain = [v for row in rows for r in PLAIN if (v := row.get(r))]
    led = [v for row in rows for r in ("xIntent", "xWant") if (v := row.get(r))]
    return {
        "utterances": len(rows),
        "copied_neighbour_share": round(copied / len(pairs), 3) if pairs else None,
        "feeling_word_share_xIntent_xWant_xEffect": round(
            sum(bool(set(words(v)) & feeling) for v in plain) / len(plain), 3
        )
        if plain
        else None,
        "to_share_xIntent_xWant": round(sum(v.lower().startswith("to ") for v in led) / len(led), 3) if led else None,
        "distinct_share": {
            r: round(len({v.lower() for row in rows if (v := row.get(r))}) / len(rows), 3) for r in ATOMIC_RELATIONS
        }
        if rows
        else {},
        "examples": [{"text": t, "relations": knowledge.find(t)} for t in texts[:4]],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--split", default="meld:dev")
    p.add_argument("-n", type=int, default=60, help="distinct utterances, the split's first in dialogue order")
    p.add_argument("--per-call", default="4,1", help="settings to compare, comma-separated")
    p.add_argument("--reference", type=Path, help="a knowledge file written before, counted for the same lines")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--note", default=None, help="what else ran on the machine, where the reference file came from")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "knowledge_prompt.json")
    args = p.parse_args()
    benchmark, split = args.split.split(":")
    lines = utterances(load_split(benchmark, split))[: args.n]
    texts = [t for _, t in lines]
    runs = []
    options = backend_options("llamacpp", n_threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        for k in (int(x) for x in args.per_call.split(",")):
            out = Path(tmp) / f"per_call_{k}.jsonl"
            with open_backend(options, None) as backend:  # no cache: every call decodes
                summary = write_knowledge(lines, backend, out, per_call=k)
            seconds = summary["seconds"]
            runs.append(
                {
                    "prompt": PROMPT,
                    "per_call": k,
                    "llm_calls": summary["llm_calls"],
                    "generated_tokens": summary["generated_tokens"],
                    "seconds": seconds,
                    "utterances_per_hour": round(3600 * summary["new"] / seconds, 1),
                    "without_inferences": summary["failed"],
                    **counts(texts, read_knowledge(out)),
                }
            )
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "examples"}))
    reference = None
    if args.reference:
        about = json.loads(sidecar(args.reference, "summary.json").read_text())
        first = about.get("runs", [about])[0]
        reference = {
            "file": args.reference.name,
            "prompt": first.get("prompt"),
            "per_call": first.get("per_call"),
            **counts(texts, read_knowledge(args.reference)),
        }
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "split": args.split,
        "utterances_asked": len(lines),
        "backend": options.model_dump(exclude_none=True),
        "note": args.note,
        "runs": runs,
        "reference": reference,
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
