"""JSON-schema decoding: llama.cpp's grammar sampler against llguidance token masks, side by side.

Issue 12 kept the grammar path where the structure is not known in advance (Emo Pillars' characters, `llm`
labelling) and asked to measure a faster constraint engine before choosing one. On one loaded model, the same
requests (same prompts, schemas, sampling parameters and seeds) are answered by each engine in turn, request by
request (so a change of load on the host hits all of them alike):

- ``grammar``: ``response_format`` with the schema; llama-cpp-python turns it into a GBNF grammar;
- ``llguidance``: the schema as llguidance token masks in a logits processor (``emosynth.llm.guidance``);
- ``free``: no constraint, the same prompt (the decoding rate without any constraint).

Reported per kind of request: generated tokens, seconds, tokens/s, and the fraction of replies valid under the
schema (jsonschema). Results: benchmarks/results/constraint_engines.json.

    .venv/bin/python benchmarks/constraint_engines.py [--n 6] [--stories ../shared/data/fairytaleqa_stories]
"""

import argparse
import json
import os
import time
from pathlib import Path

import jsonschema
from machine import describe

from emosynth.data.paths import data_root
from emosynth.data.stories import load_passages
from emosynth.llm.guidance import Guide
from emosynth.llm.llamacpp import LlamaCppBackend, chat_kwargs
from emosynth.synth.config import DialogueConfig
from emosynth.synth.dialogues import DialogueSynthesizer
from emosynth.synth.pillars.config import PillarsConfig
from emosynth.synth.pillars.stages import characters_request

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("grammar", "llguidance", "free")


def requests_of(kind: str, n: int, stories: Path, backend):
    if kind == "pillars_characters":
        config = PillarsConfig.create()
        passages = load_passages(stories, config.passage_words)[::37][:n]  # spread over the corpus
        return [characters_request(config, p, seed=1000 + i, index=0) for i, p in enumerate(passages)]
    synth = DialogueSynthesizer(DialogueConfig.create(mode="balanced", labelling="llm", n=n, seed=4000), backend)
    return [synth.request(synth.spec(i), 0) for i in range(n)]


def answer(llm, guide: Guide, request, engine: str) -> dict:
    kwargs = chat_kwargs(request)
    if engine != "grammar":
        kwargs.pop("response_format")
    if engine == "llguidance":
        kwargs["logits_processor"] = guide.processor(request.json_schema)
    start = time.perf_counter()
    out = llm.create_chat_completion(**kwargs)
    seconds = time.perf_counter() - start
    text = out["choices"][0]["message"]["content"] or ""
    try:
        jsonschema.validate(json.loads(text), request.json_schema)
        valid = True
    except (ValueError, jsonschema.ValidationError):
        valid = False
    return {"tokens": out["usage"]["completion_tokens"], "seconds": seconds, "valid": valid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=6, help="requests of each kind")
    parser.add_argument("--stories", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "constraint_engines.json")
    args = parser.parse_args()
    stories = args.stories or data_root() / "fairytaleqa_stories"
    backend = LlamaCppBackend(n_threads=os.cpu_count())
    start = time.perf_counter()
    guide = Guide(backend.llm)
    result = {"tokenizer_seconds": round(time.perf_counter() - start, 2), "kinds": {}}
    for kind in ("pillars_characters", "llm_labelled_dialogue"):
        runs = {e: [] for e in ENGINES}
        for request in requests_of(kind, args.n, stories, backend):
            for engine in ENGINES:
                runs[engine].append(answer(backend.llm, guide, request, engine))
        figures = {}
        for engine, rows in runs.items():
            tokens, seconds = sum(r["tokens"] for r in rows), sum(r["seconds"] for r in rows)
            figures[engine] = {
                "requests": len(rows),
                "tokens": tokens,
                "seconds": round(seconds, 2),
                "tokens_per_s": round(tokens / seconds, 2),
                "valid_fraction": round(sum(r["valid"] for r in rows) / len(rows), 3),
            }
        figures["llguidance_over_grammar_tokens_per_s"] = round(
            figures["llguidance"]["tokens_per_s"] / figures["grammar"]["tokens_per_s"], 3
        )
        figures["llguidance_over_grammar_wall"] = round(
            figures["llguidance"]["seconds"] / figures["grammar"]["seconds"], 3
        )
        result["kinds"][kind] = figures
        print(kind, json.dumps(figures), flush=True)
    backend.close()
    result |= {
        "setup": (
            f"{args.n} requests of each kind, each answered by every engine in turn on one loaded model "
            f"({backend.model_id}, {os.cpu_count()} threads); same prompts, schemas, sampling parameters and seeds; "
            "the characters requests are Emo Pillars' stage 1 on FairytaleQA passages, the dialogue requests "
            "Balanced MELD dialogues with `llm` labelling (the model writes the labels under the schema)"
        ),
        "measured": time.strftime("%Y-%m-%d"),
        "machine": describe(),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
