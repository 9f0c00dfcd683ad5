"""Ray scaling on one machine: dialogues/hour of the in-process llama.cpp backend against the ``ray`` backend with
one and two replicas, on the same planned Balanced MELD dialogues (same scenarios, plans and seeds).

On 2 cores the point is the overhead Ray adds (actors, serialisation, scheduling), not a speed-up: one replica
gets both cores, as the local backend does; two replicas get one core each. The local run goes first and last, so
a change of load on the shared host during the runs shows as a difference between the two. Dialogues/hour count
accepted dialogues per wall-clock hour of generation; loading the model (and starting Ray) is timed apart.
Results: benchmarks/results/ray_scaling.json.

    .venv/bin/python benchmarks/ray_scaling.py [--n 6]
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from machine import describe

from emosynth.llm.llamacpp import LlamaCppBackend
from emosynth.llm.ray_backend import RayBackend
from emosynth.synth.config import DialogueConfig
from emosynth.synth.dialogues import DialogueSynthesizer

ROOT = Path(__file__).resolve().parents[1]


def timed_run(make_backend, n: int, seed: int) -> dict:
    """Load a backend, generate ``n`` dialogues with it, close it; what it made and how fast."""
    start = time.perf_counter()
    backend = make_backend()
    load_seconds = time.perf_counter() - start
    try:
        config = DialogueConfig.create(mode="balanced", labelling="planned", n=n, seed=seed)
        with tempfile.TemporaryDirectory() as tmp:
            summary = DialogueSynthesizer(config, backend).run(Path(tmp) / "ray.jsonl", progress=False).to_dict()
    finally:
        backend.close()
    row = {"load_seconds": round(load_seconds, 1)} | {
        k: summary[k] for k in ("accepted", "attempts", "completion_tokens", "wall_seconds", "dialogues_per_hour")
    }
    print(json.dumps(row), flush=True)
    return row


# Published vLLM throughput for an 8B model (the papers used Mistral-7B), output tokens per second per GPU:
PUBLISHED = {
    "a100_40gb_llama31_8b_concurrency_1": {
        "output_tokens_per_s": 75,
        "source": "https://johnmusgrave.com/p/vllm-throughput-latency-sweep-on (vLLM 0.23.0, BF16, 1024 in / 128 out)",
    },
    "a100_40gb_llama31_8b_concurrency_8": {
        "output_tokens_per_s": 75 * 6.6,
        "source": "same sweep: 6.6x the single-request throughput at concurrency 8",
    },
    "h100_80gb_llama31_8b_saturated": {
        "output_tokens_per_s": 12500,
        "source": "https://www.morphllm.com/vllm-benchmarks (third-party figures collected there, high concurrency)",
    },
}
CALLS = 700_000  # the Emo Pillars paper: 700K LLM calls in 450 GPU hours


def estimate(result: dict) -> dict:
    """Hours for the papers' 700K calls, from this run's calls (their generated tokens and dialogues/hour) and the
    published vLLM figures above."""
    local = result["runs"]["local_first"]
    tokens_per_call = local["completion_tokens"] / local["attempts"]
    out = {
        "calls": CALLS,
        "generated_tokens_per_call_measured": round(tokens_per_call, 1),
        "this_machine_local_hours": round(CALLS / result["local_dialogues_per_hour"]),
        "this_machine_ray_2_replicas_hours": round(CALLS / result["ray_2_replicas_dialogues_per_hour"]),
        "paper_gpu_hours": 450,
        "paper_output_tokens_per_gpu_s_at_this_call_size": round(CALLS * tokens_per_call / (450 * 3600), 1),
    }
    for name, figure in PUBLISHED.items():
        out[f"vllm_{name}_gpu_hours"] = round(CALLS * tokens_per_call / figure["output_tokens_per_s"] / 3600, 1)
    out["published"] = PUBLISHED
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6, help="dialogues per run")
    parser.add_argument("--seed", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ray_scaling.json")
    parser.add_argument("--estimate-only", action="store_true", help="recompute the estimate from the saved runs")
    args = parser.parse_args()
    if args.estimate_only:
        result = json.loads(args.out.read_text())
        result["estimate_700k_calls"] = estimate(result)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result["estimate_700k_calls"], indent=1))
        return
    cores = os.cpu_count()
    runs = {
        "local_first": timed_run(lambda: LlamaCppBackend(n_threads=cores, concurrency=1), args.n, args.seed),
        "ray_1_replica": timed_run(
            lambda: RayBackend(replicas=1, cpus_per_replica=cores, num_cpus=cores), args.n, args.seed
        ),
        "ray_2_replicas": timed_run(
            lambda: RayBackend(replicas=2, cpus_per_replica=cores // 2, num_cpus=cores), args.n, args.seed
        ),
        "local_last": timed_run(lambda: LlamaCppBackend(n_threads=cores, concurrency=1), args.n, args.seed),
    }
    local = (runs["local_first"]["dialogues_per_hour"] + runs["local_last"]["dialogues_per_hour"]) / 2
    one, two = runs["ray_1_replica"]["dialogues_per_hour"], runs["ray_2_replicas"]["dialogues_per_hour"]
    result = {
        "local_dialogues_per_hour": round(local, 1),
        "ray_1_replica_dialogues_per_hour": one,
        "ray_2_replicas_dialogues_per_hour": two,
        "overhead_1_replica": round(1 - one / local, 4),
        "setup": (
            f"{args.n} planned Balanced MELD dialogues per run (seed {args.seed}), template filling, one dialogue at a"
            f" time per backend; local and 1 replica: {cores} threads; 2 replicas: {cores // 2} thread(s) each;"
            " local = mean of a run before and a run after the Ray runs"
        ),
        "runs": runs,
        "tokens_per_s": {name: round(r["completion_tokens"] / r["wall_seconds"], 2) for name, r in runs.items()},
        "machine": describe(),
        "measured": time.strftime("%Y-%m-%d"),
    }
    result["estimate_700k_calls"] = estimate(result)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
