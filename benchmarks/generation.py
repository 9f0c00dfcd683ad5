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
from dataclasses import replace
from pathlib import Path

from machine import describe

from emosynth.data.io import read_dialogues
from emosynth.data.meld import read_meld
from emosynth.llm.batch import BatchFiller
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


def batched_rates(backend, requests, widths) -> dict:
    """Useful tokens (sampled utterance tokens) per wall-clock second when the same template requests are filled
    with 1, 2, 4, 8 sequences decoded together; wall time includes evaluating prompts and fixed text."""
    rates = {}
    for width in widths:
        filler = BatchFiller(backend.llm, width, backend.n_ctx)
        try:
            start = time.perf_counter()
            filled = [f for _, f in filler.fill_many(requests)]
            seconds = time.perf_counter() - start
        finally:
            filler.close()
        rates[str(width)] = round(sum(f.sampled_tokens for f in filled) / seconds, 2)
        print(f"{width} sequences: {rates[str(width)]} tokens/s over {seconds:.0f} s", flush=True)
    return rates


def engine_comparison(backend, n: int, seed: int = 2000, widths=(1, 2, 4, 8), batch_requests: int = 8) -> dict:
    """The old path (JSON schema, grammar sampler) against the new one (template filling, several dialogues decoded
    together), side by side on one loaded model.

    First the same ``batch_requests`` template requests are filled with each number of parallel sequences in
    ``widths``; the fastest becomes the new path's ``concurrency``. Then the same n planned Balanced MELD dialogues
    (same scenarios, plans and seeds) are generated by each path with the default retries, and the same first
    requests are sent once unconstrained (no schema, no template) for the raw single-sequence decoding rate.
    Useful tokens: everything the schema path samples; what template filling samples.
    """
    out: dict = {"engine_n_dialogues": n, "engine_seed": seed}
    base = dict(mode="balanced", labelling="planned", seed=seed)
    templated = DialogueSynthesizer(DialogueConfig.create(n=batch_requests, **base), backend)
    batch = [templated.request(templated.spec(i), 0) for i in range(batch_requests)]
    out["batched_requests"] = batch_requests
    out["batched_aggregate_tokens_per_s"] = rates = batched_rates(backend, batch, widths)
    best = int(max(rates, key=rates.get))
    out["batched_best_sequences"] = best
    backend.concurrency, backend.filler = best, None  # the new path decodes that many dialogues together
    base["n"] = n
    synth = DialogueSynthesizer(DialogueConfig.create(decoding="schema", **base), backend)
    unconstrained = [replace(synth.request(synth.spec(i), 0), json_schema=None) for i in range(n)]
    raw_seconds, raw_tokens = raw_pass(backend.llm, unconstrained)
    out["raw_unconstrained_tokens_per_s"] = round(raw_tokens / raw_seconds, 2)
    for decoding, key in (("schema", "old"), ("template", "new")):
        config = DialogueConfig.create(decoding=decoding, **base)
        with tempfile.TemporaryDirectory() as tmp:
            summary = DialogueSynthesizer(config, backend).run(Path(tmp) / "bench.jsonl", progress=False)
        d = summary.to_dict()
        # per wall-clock second: the new path decodes several dialogues at once, so their own times overlap
        out[f"{decoding}_tokens_per_s"] = round(summary.completion_tokens / summary.wall_seconds, 2)
        out[f"dialogues_per_hour_{key}"] = d["dialogues_per_hour"]
        out[f"engine_accepted_fraction_{key}"] = d["accepted_fraction"]
        out[f"{decoding}_run"] = {
            k: d[k]
            for k in (
                "accepted",
                "rejected",
                "attempts",
                "rejections_by_reason",
                "completion_tokens",
                "forced_tokens",
                "redraws",
                "wall_seconds",
            )
        } | {"concurrency": backend.concurrency if decoding == "template" else 1}
    old = out["dialogues_per_hour_old"]
    out["speedup"] = round(out["dialogues_per_hour_new"] / old, 3) if old else None
    backend.filler.close()
    return out


def quality_comparison(old: Path, new: Path) -> dict:
    """Acceptance, repeated-line rejections, distinct-2 and label fidelity of two committed samples made with the
    same seed, scenarios and plans, the old path and the new one. Fidelity: the class-weighted classifier judge's
    agreement from ``benchmarks/label_fidelity.py`` (benchmarks/results/label_fidelity.json)."""
    fidelity = json.loads((ROOT / "benchmarks" / "results" / "label_fidelity.json").read_text())["datasets"]
    out = {}
    for key, path in (("old", old), ("new", new)):
        summary = json.loads(path.with_suffix(".summary.json").read_text())
        dialogues = read_dialogues(path)
        judged = fidelity[path.relative_to(ROOT).as_posix()]["judges"]["classifier"]
        out[f"accepted_fraction_{key}"] = summary["accepted_fraction"]
        out[f"fidelity_{key}"] = judged["agreement_overall"]
        out[f"quality_{key}"] = {
            "sample": path.relative_to(ROOT).as_posix(),
            "dialogues": len(dialogues),
            "turns": sum(len(d.turns) for d in dialogues),
            "attempts": summary["attempts"],
            "repeated_utterance_rejections": summary["rejections_by_reason"].get("repeated_utterance", 0),
            "redraws": summary.get("redraws", 0),
            "distinct_2": round(distinct_n([t.text for d in dialogues for t in d.turns], 2), 4),
            "fidelity_macro": judged["agreement_macro"],
            "judge": judged["model"],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "generation.json")
    parser.add_argument("--samples-only", action="store_true", help="only refresh the samples' statistics")
    parser.add_argument("--engine", type=int, default=0, help="compare the old and new paths on N dialogues")
    parser.add_argument("--model", default=None, help="embedded model or GGUF (default: the embedded default)")
    parser.add_argument("--quality", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two samples' quality")
    args = parser.parse_args()
    if args.quality:
        result = json.loads(args.out.read_text()) | quality_comparison(*(p.resolve() for p in args.quality))
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result, indent=1))
        return
    if args.engine:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        engine = engine_comparison(LlamaCppBackend(args.model), args.engine)
        result = previous | engine | {"engine_machine": describe(), "engine_measured": time.strftime("%Y-%m-%d")}
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(engine, indent=1))
        return
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
