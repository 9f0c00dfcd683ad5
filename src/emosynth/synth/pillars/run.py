"""The Emo Pillars run: passages -> characters -> utterances -> contexts -> examples, resumable at every stage.

Every stage appends what it accepts to its own JSONL beside the output (``pillars.characters.jsonl``,
``pillars.utterances.jsonl``, ``pillars.contexts.jsonl``) and what it gave up on to ``pillars.rejected.jsonl``;
a rerun skips what is in them, so a killed run loses at most the requests in flight (and those come back from the
response cache). The example files (``pillars_contextless.jsonl``, ``pillars_contextual.jsonl``) are rebuilt from
the stage files at the end of every run.

Call ``k`` of ``ceil(n / per_call)`` takes passage ``k // calls_per_passage`` of those with characters (seeded
order), its characters in turn from a seeded one, and the k-th target emotion (balanced: every label once per
round, in a seeded order per round).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from emosynth.data.io import JsonlWriter, check_resumable, ensure_writable, iter_jsonl, sidecar, write_atomic
from emosynth.data.paths import shown
from emosynth.data.stories import load_passages
from emosynth.judge import Rater
from emosynth.llm.base import LLMBackend
from emosynth.llm.options import BackendOptions, open_backend
from emosynth.records import Character, Example, Passage, Rejection
from emosynth.synth.parse import InvalidOutput
from emosynth.synth.pillars import stages
from emosynth.synth.pillars.attempts import waves
from emosynth.synth.pillars.config import IDENTITY_FIELDS, PillarsConfig
from emosynth.synth.pillars.select import apply_filters, soft_labels
from emosynth.synth.pillars.summary import PillarsSummary
from emosynth.synth.prompts import load_cues
from emosynth.synth.specs import rng_for
from emosynth.taxonomy import get_taxonomy

RESUME_KEYS = (*IDENTITY_FIELDS, "stories", "backend", "model")  # a run resumes into an output only when these agree


def _seed(*keys) -> int:
    return rng_for(*keys).randrange(2**31)


class PillarsSynthesizer:
    """Generates the examples of ``config`` from ``passages`` into the folder of ``out`` (``<dir>/pillars.jsonl``).

    Args:
        config: the run's settings.
        backend: any backend (wrap it in ``CachedBackend`` for caching and resume of requests).
        passages: the corpus, split (``data.stories.load_passages``).
        stories: where the corpus came from (recorded in the run config).
        rater: scores the examples for their soft labels (``emosynth.judge.Rater``); None keeps the target as label.
    """

    def __init__(
        self,
        config: PillarsConfig,
        backend: LLMBackend,
        passages: list[Passage],
        stories: str = "",
        rater: Rater | None = None,
    ):
        decoding = config.decoding if backend.fills_templates else "schema"  # a server cannot fill templates
        self.config = config if decoding == config.decoding else config.model_copy(update={"decoding": decoding})
        self.backend, self.stories, self.rater = backend, stories, rater
        self.taxonomy = get_taxonomy(config.taxonomy)
        self.cues = load_cues(self.taxonomy)
        self.passages = {p.id: p for p in passages}
        self.order = sorted(self.passages)
        rng_for(config.seed, "passages").shuffle(self.order)

    def target(self, k: int) -> str:
        """The emotion of call ``k``: balanced rounds over the labels, or drawn by the configured weights."""
        labels = list(self.taxonomy.labels)
        if self.config.targets:
            names, weights = zip(*self.config.targets.items())
            return rng_for(self.config.seed, "target", k).choices(names, weights)[0]
        rng_for(self.config.seed, "round", k // len(labels)).shuffle(labels)
        return labels[k % len(labels)]

    def config_record(self) -> dict[str, Any]:
        """The resolved configuration saved beside the output."""
        return self.config.model_dump() | {
            "stories": self.stories,
            "backend": self.backend.name,
            "model": self.backend.model_id,
        }

    def run(self, out: str | Path, progress: bool = False, calls: bool = True) -> PillarsSummary:
        """Run every stage into the folder of ``out``; a rerun resumes. ``progress``: a bar per stage.

        ``calls=False`` makes no LLM call for the stages: the example files are rebuilt (filtered, rated) from what
        the stage files hold, e.g. to rate a sample again with another rater or to stop a sample where it is."""
        out, start = Path(out), time.perf_counter()
        out.parent.mkdir(parents=True, exist_ok=True)
        self.progress, self.calls = progress, calls
        summary = PillarsSummary(requested=self.config.n)
        self.new_calls: set[str] = set()  # utterance calls made by this invocation (its examples are its yield)
        files = {kind: sidecar(out, f"{kind}.jsonl") for kind in ("characters", "utterances", "contexts", "rejected")}
        record = self.config_record()
        check_resumable(out, record, RESUME_KEYS)
        write_atomic(sidecar(out, "config.json"), json.dumps(record, indent=1) + "\n")
        self.given_up = {obj["id"] for _, obj in _lines(files["rejected"])}
        with JsonlWriter(files["rejected"]) as rejected:
            characters = self._characters(files["characters"], rejected, summary)
            calls = self._utterances(characters, files["utterances"], rejected, summary)
            contexts = self._contexts(calls, files["contexts"], rejected, summary)
        self._examples(out, calls, contexts, summary)
        summary.wall_seconds = time.perf_counter() - start
        write_atomic(sidecar(out, "summary.json"), json.dumps(summary.to_dict(), indent=1) + "\n")
        return summary

    def _stage(self, stage: str, todo, request, parse, rejected: JsonlWriter, summary) -> Iterator[tuple[Any, Any]]:
        """The accepted ``(item, result)`` of one stage's attempts; items given up on go to the rejected file."""
        if not self.calls:
            return
        count = summary.stages[stage]
        for item, result in waves(
            self.backend, stage, todo, request, parse, self.config.max_attempts, count, self.progress
        ):
            if isinstance(result, Rejection):
                rejected.write(result.to_dict())
            else:
                yield item, result

    def _characters(self, path: Path, rejected: JsonlWriter, summary) -> dict[str, list[Character]]:
        """Stage 1 over passages in order until ``config.passages`` passages with characters are known."""
        config = self.config
        known = {obj["passage"]: [Character(**c) for c in obj["characters"]] for _, obj in _lines(path)}
        with JsonlWriter(path) as writer:
            position = 0
            if not self.calls:  # the passages read before: up to the last one the stage file knows
                rank = {p: k for k, p in enumerate(self.order)}
                position = 1 + max((rank[p] for p in known if p in rank), default=-1)
            while (missing := config.passages - sum(1 for p in self.order[:position] if known.get(p))) > 0:
                if position >= len(self.order):
                    break
                wave = self.order[position : position + missing + 2]
                position += len(wave)
                todo = [(p,) for p in wave if p not in known and f"characters:{p}" not in self.given_up]

                def request(item, attempt):
                    passage = self.passages[item[0]]
                    seed = _seed(config.seed, "characters", passage.id, attempt)
                    return stages.characters_request(config, passage, seed, attempt)

                def parse(item, completion):
                    if completion.truncated:
                        raise InvalidOutput("truncated", f"cut off at {completion.completion_tokens} tokens")
                    return stages.parse_characters(completion.text, self.passages[item[0]], config.max_characters)

                for (pid,), result in self._stage("characters", todo, request, parse, rejected, summary):
                    known[pid] = result
                    writer.write({"passage": pid, "characters": [c.to_dict() for c in result]})
        read = self.order[:position]
        summary.passages_read = len(read)
        summary.passages_without_characters = sum(1 for p in read if p in known and not known[p])
        return known

    def _utterances(self, characters, path: Path, rejected: JsonlWriter, summary) -> list[dict[str, Any]]:
        """Stage 2: one call per (passage with characters, character, target emotion)."""
        config = self.config
        grounded = [p for p in self.order if characters.get(p)]
        done = {obj["id"]: obj for _, obj in _lines(path)}
        todo = []
        for k in range(min(config.calls, len(grounded) * config.calls_per_passage)):
            call_id = f"pillars-s{config.seed}-{k:06d}"
            if call_id in done or f"utterances:{call_id}" in self.given_up:
                continue
            pid, turn = grounded[k // config.calls_per_passage], k % config.calls_per_passage
            cast = characters[pid]
            character = cast[(rng_for(config.seed, "character", pid).randrange(len(cast)) + turn) % len(cast)]
            todo.append((call_id, pid, character, self.target(k)))

        def request(item, attempt):
            call_id, pid, character, emotion = item
            seed = _seed(config.seed, call_id, attempt)
            return stages.utterances_request(
                config, self.passages[pid], character, emotion, self.cues.get(emotion, ""), seed, attempt
            )

        def parse(item, completion):
            if completion.truncated and completion.text.count('"') < 4:
                raise InvalidOutput("truncated", f"cut off at {completion.completion_tokens} tokens")
            return stages.parse_utterances(completion.text, config.per_call, config.utterance_chars)

        with JsonlWriter(path) as writer:
            for item, result in self._stage("utterances", todo, request, parse, rejected, summary):
                call_id, pid, character, emotion = item
                kept, dropped = result
                summary.dropped_utterances.update(dropped)
                record = {"id": call_id, "passage": pid, "character": character.to_dict(), "target": emotion}
                done[call_id] = record | {"utterances": kept, "dropped": dropped}
                writer.write(done[call_id])
                self.new_calls.add(call_id)
        return sorted(done.values(), key=lambda r: r["id"])

    def _contexts(self, calls, path: Path, rejected: JsonlWriter, summary) -> dict[str, str]:
        """Stage 3: a context for the first ``contexts_per_call`` utterances of every call."""
        config = self.config
        done = {obj["id"]: obj["context"] for _, obj in _lines(path)}
        todo = [
            (f"{call['id']}/{j}", call, utterance)
            for call in calls
            for j, utterance in enumerate(call["utterances"][: config.contexts_per_call])
            if f"{call['id']}/{j}" not in done and f"context:{call['id']}/{j}" not in self.given_up
        ]

        def request(item, attempt):
            uid, call, utterance = item
            character = Character(**call["character"])
            seed = _seed(config.seed, uid, attempt)
            return stages.context_request(config, self.passages[call["passage"]], character, utterance, seed, attempt)

        def parse(item, completion):
            return stages.parse_context(completion.text, item[2], config.context_chars, item[1]["target"])

        with JsonlWriter(path) as writer:
            for item, result in self._stage("context", todo, request, parse, rejected, summary):
                done[item[0]] = result
                writer.write({"id": item[0], "context": result})
        return done

    def _examples(self, out: Path, calls, contexts: dict[str, str], summary: PillarsSummary) -> None:
        """The example files, rebuilt from the stage files: every utterance that passes the filters is a
        context-less example, and a contextual one too when it has a context; with a rater, each keeps its soft
        labels if they confirm its target (``select``); without one its label is the target."""
        cfg = self.config
        contextless, contextual = [], []
        for call in calls:
            character = Character(**call["character"])
            passage = self.passages[call["passage"]]
            for j, utterance in enumerate(call["utterances"]):
                uid = f"{call['id']}/{j}"
                meta = {"target": call["target"], "passage": passage.id, "story": passage.story}
                meta |= {"character": character.name}
                contextless.append(Example(uid, utterance, [call["target"]], self.taxonomy.name, metadata=meta))
                if uid in contexts:
                    meta = meta | {"character_description": character.description()}
                    ex = Example(uid, utterance, [call["target"]], self.taxonomy.name, contexts[uid], metadata=meta)
                    contextual.append(ex)
        contextless, summary.dropped_examples = apply_filters(contextless, cfg.min_words, cfg.max_words)
        passed = {e.id for e in contextless}
        contextual = [e for e in contextual if e.id in passed]
        if self.rater is not None:
            summary.rater = self.rater.identity
            contextless, dropped, outside = soft_labels(contextless, self.rater, self.taxonomy, cfg.label_threshold)
            summary.dropped_examples.update(dropped)
            summary.out_of_taxonomy.update(outside)
            contextual, _, outside = soft_labels(contextual, self.rater, self.taxonomy, cfg.label_threshold)
            summary.out_of_taxonomy.update(outside)
            for completion in getattr(self.rater, "completions", ()):  # an LLM rater's calls are calls of the run
                summary.stages["rating"].add(completion)
        for name, examples in (("pillars_contextless", contextless), ("pillars_contextual", contextual)):
            lines = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in examples)
            write_atomic(out.with_name(f"{name}.jsonl"), lines)
        summary.contextless, summary.contextual = len(contextless), len(contextual)
        summary.contextless_new = sum(1 for e in contextless if e.id.partition("/")[0] in self.new_calls)
        summary.label_counts.update(label for e in contextless for label in e.labels)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return iter_jsonl(path) if path.exists() else iter(())


def generate(
    config: PillarsConfig,
    stories: str | Path,
    output: str | Path,
    options: BackendOptions,
    cache: str | Path | None = "auto",
    progress: bool = True,
    rater: Callable[[LLMBackend], Rater | None] | None = None,
    calls: bool = True,
) -> PillarsSummary:
    """``emosynth generate pillars``: read and split the stories, open the backend, run into the folder ``output``.

    Args:
        config: the run's settings.
        stories: a FairytaleQA folder, a folder of .txt files or a JSONL of {id, text}.
        output: the run's folder (``pillars_contextless.jsonl``, ``pillars_contextual.jsonl`` and the stage files).
        options: the LLM backend's options.
        cache: the response cache; ``"auto"`` puts it in the folder, None disables it.
        progress: a bar per stage.
        rater: builds the rater of the soft labels once the backend is open (so that it may rate with the run's
            own LLM, through its response cache); None, or a rater of None: the target is the label.
        calls: False makes no LLM call for the stages (``PillarsSynthesizer.run``).
    """
    out = Path(output) / "pillars.jsonl"
    # decoding is compared once the backend is known (one that cannot fill templates decodes under the schema)
    check_resumable(out, config.model_dump(exclude={"decoding"}) | {"stories": shown(stories)}, RESUME_KEYS)
    passages = load_passages(stories, config.passage_words)  # bad input fails before a model loads
    ensure_writable(out)
    with open_backend(options, sidecar(out, "cache.sqlite") if cache == "auto" else cache) as llm:
        synthesizer = PillarsSynthesizer(config, llm, passages, shown(stories), rater(llm) if rater else None)
        return synthesizer.run(out, progress, calls)
