"""Generation throughput of the pipeline against raw llama-cpp-python calls with the same prompts.

The same N planned Balanced MELD requests (same prompts, JSON schemas, sampling parameters and seeds) go
once straight to ``Llama.create_chat_completion`` and once through ``DialogueSynthesizer.run`` (spec building,
prompt rendering, backend wrapper, parsing, validation, JSONL writing), on one loaded model. Raw runs before
and after the pipeline; overhead = pipeline wall time / mean raw wall time - 1. The accepted fraction and
dialogues/hour come from the committed 50 + 50 dialogue samples' summaries.

    .venv/bin/python benchmarks/generation.py [--n 6]
"""

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from machine import describe

from emosynth.data.io import read_dialogues
from emosynth.data.meld import read_meld
from emosynth.llm.llamacpp import LlamaCppBackend, chat_kwargs
from emosynth.synth.config import DialogueConfig
from emosynth.synth.dialogues import DialogueSynthesizer
from emosynth.text import distinct_n

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def raw_pass(llm, requests) -> tuple[float, int]:
    start, tokens = time.perf_counter(), 0
    for r in requests:
        out = llm.create_chat_completion(**chat_kwargs(r))
        tokens += out["usage"]["completion_tokens"]
    return time.perf_counter() - start, tokens


def per_dialogue(dialogues) -> float:
    """Mean over dialogues of distinct-2 within each dialogue."""
    return round(sum(distinct_n([t.text for t in d.turns], 2) for d in dialogues) / len(dialogues), 4)


def sample_stats() -> dict:
    stats = {}
    for mode in ("balanced", "natural"):
        summary = json.loads((SAMPLES / f"meld_{mode}.summary.json").read_text())
        dialogues = read_dialogues(SAMPLES / f"meld_{mode}.jsonl")
        stats[mode] = {
            "accepted": summary["accepted"],
            "rejected": summary["rejected"],
            "attempts": summary["attempts"],
            "rejections_by_reason": summary["rejections_by_reason"],
            "final_rejections_by_reason": summary["final_rejections_by_reason"],
            "cached_responses": summary["cached_responses"],
            "distinct_2": round(distinct_n([t.text for d in dialogues for t in d.turns], 2), 4),
            "distinct_2_per_dialogue_mean": per_dialogue(dialogues),
            "wall_seconds": summary["wall_seconds"],
            "dialogues_per_hour": summary["dialogues_per_hour"],
            "turns": sum(len(d.turns) for d in dialogues),
        }
    real = random.Random(0).sample(read_meld("train"), 50)
    stats["real_meld_train_50_dialogues_distinct_2"] = round(distinct_n([t.text for d in real for t in d.turns], 2), 4)
    stats["real_meld_train_50_dialogues_distinct_2_per_dialogue_mean"] = per_dialogue(real)
    return stats


def sample_fields(previous: dict | None = None) -> dict:
    """Accepted fraction in planned mode, from the committed 50 + 50 samples.

    Throughput is only taken from a sample run that generated everything afresh (no cached responses);
    otherwise the previous measurement stays.
    """
    samples = sample_stats()
    done = sum(samples[m]["accepted"] + samples[m]["rejected"] for m in ("balanced", "natural"))
    accepted = sum(samples[m]["accepted"] for m in ("balanced", "natural"))
    fields = {"accepted_fraction_planned": round(accepted / done, 4), "samples": samples}
    if samples["natural"]["cached_responses"] == 0:
        fields["dialogues_per_hour"] = samples["natural"]["dialogues_per_hour"]
        fields["dialogues_per_hour_source"] = (
            "accepted dialogues per wall-clock hour, retries included, of the committed 50-dialogue Natural sample run"
        )
    elif previous:
        for key in ("dialogues_per_hour", "dialogues_per_hour_source"):
            fields[key] = previous.get(key)
    return fields


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "generation.json")
    parser.add_argument("--samples-only", action="store_true", help="only refresh the samples' statistics")
    args = parser.parse_args()
    if args.samples_only:
        previous = json.loads(args.out.read_text())
        result = previous | sample_fields(previous)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result, indent=1))
        return

    backend = LlamaCppBackend()  # the embedded default model
    config = DialogueConfig.create(mode="balanced", labelling="planned", n=args.n, seed=1000, max_attempts=1)
    synth = DialogueSynthesizer(config, backend)
    requests = [synth.request(synth.spec(i), 0) for i in range(args.n)]
    raw_pass(backend.llm, requests[:1])  # warm-up: first-call allocations

    raw1, raw_tokens = raw_pass(backend.llm, requests)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = synth.run(Path(tmp) / "bench.jsonl", progress=False)
        pipeline = time.perf_counter() - start
    raw2, raw_tokens2 = raw_pass(backend.llm, requests)
    raw = (raw1 + raw2) / 2

    result = {
        "model": backend.model_id,
        "n_dialogues_timed": args.n,
        "generated_tokens_per_s": round(summary.completion_tokens / pipeline, 2),
        "raw_seconds": [round(raw1, 2), round(raw2, 2)],
        "raw_generated_tokens": [raw_tokens, raw_tokens2],
        "pipeline_seconds": round(pipeline, 2),
        "pipeline_generated_tokens": summary.completion_tokens,
        "pipeline_accepted_of_timed": summary.accepted,
        "overhead_vs_raw": round(pipeline / raw - 1, 4),
        **sample_fields(json.loads(args.out.read_text()) if args.out.exists() else None),
        "machine": describe(),
        "measured": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
