"""The Emo Pillars run: passages -> characters -> utterances -> rating -> contexts -> examples, resumable at every
stage.

Every stage appends what it accepts to its own JSONL beside the output (``pillars.characters.jsonl``,
``pillars.utterances.jsonl``, ``pillars.contexts.jsonl``) and what it gave up on to ``pillars.rejected.jsonl``;
a rerun skips what is in them, so a killed run loses at most the requests in flight (and those come back from the
response cache). The example files (``pillars_contextless.jsonl``, ``pillars_contextual.jsonl``) and the summary
are rebuilt from the stage files after every round.

Call ``k`` takes passage ``k // calls_per_passage`` of those with characters (seeded order), its characters in
turn from a seeded one, and the k-th target emotion (balanced: every label once per round, in a seeded order per
round). With a rater, calls come in rounds until ``n`` context-less examples are accepted, and after every round
the newly accepted utterances get their contexts: no context call is spent on an utterance that is dropped.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emosynth.data.io import JsonlWriter, check_resumable, iter_jsonl, sidecar, write_atomic, write_records
from emosynth.judge import Rater
from emosynth.llm.base import LLMBackend
from emosynth.records import Character, Example, Passage, Rejection
from emosynth.synth.parse import InvalidOutput
from emosynth.synth.pillars import stages
from emosynth.synth.pillars.attempts import waves
from emosynth.synth.pillars.config import IDENTITY_FIELDS, PillarsConfig
from emosynth.synth.pillars.select import MemoRater, apply_filters, candidates, contexts_wanted, soft_labels
from emosynth.synth.pillars.summary import PillarsSummary
from emosynth.synth.prompts import load_cues
from emosynth.synth.specs import rng_for, seed_for
from emosynth.taxonomy import get_taxonomy

RESUME_KEYS = (*IDENTITY_FIELDS, "stories", "backend", "model")  # a run resumes into an output only when these agree


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
        """The emotion of call ``k`` (``PillarsConfig.target``)."""
        return self.config.target(k, self.taxonomy.labels)

    def config_record(self) -> dict[str, Any]:
        """The resolved configuration saved beside the output."""
        return self.config.model_dump() | {
            "stories": self.stories,
            "backend": self.backend.name,
            "model": self.backend.model_id,
        }

    def run(self, out: str | Path, progress: bool = False, calls: bool = True) -> PillarsSummary:
        """Run every stage into the folder of ``out``; a rerun resumes. ``progress``: a bar per stage.

        With a rater the utterance calls come in rounds until ``n`` context-less examples are accepted (see
        ``PillarsConfig``); contexts are then written for accepted utterances only. ``calls=False`` makes no LLM
        call for the stages: the example files are rebuilt (filtered, rated) from what the stage files hold, e.g. to
        rate a sample again with another rater or to stop a sample where it is."""
        out, start = Path(out), time.perf_counter()
        out.parent.mkdir(parents=True, exist_ok=True)
        self.progress, self.calls = progress, calls
        summary = PillarsSummary(requested=self.config.n)
        self.new_calls: set[str] = set()  # utterance calls made by this invocation (its examples are its yield)
        self.new_contexts: set[str] = set()  # contexts written by this invocation
        files = {kind: sidecar(out, f"{kind}.jsonl") for kind in ("characters", "utterances", "contexts", "rejected")}
        record = self.config_record()
        check_resumable(out, record, RESUME_KEYS)
        write_atomic(sidecar(out, "config.json"), json.dumps(record, indent=1) + "\n")
        given_up = [obj for _, obj in _lines(files["rejected"])]
        self.given_up = {obj["id"] for obj in given_up}
        # contexts dropped inside kept replies (``context:<call>/<j>``), of the whole output like the other drops
        summary.dropped_contexts.update(
            o["reason"] for o in given_up if o["id"].startswith("context:") and "/" in o["id"]
        )
        rater = MemoRater(self.rater) if self.rater is not None else None
        with JsonlWriter(files["rejected"]) as rejected:
            config = self.config
            planned = config.calls if rater is None else min(config.calls, config.round_calls, config.call_limit)
            while True:
                characters = self._characters(files["characters"], rejected, summary, planned)
                done = self._utterances(characters, files["utterances"], rejected, summary, planned)
                contextless = self._contextless(done, rater, summary)
                contexts = self._contexts(done, contextless, files["contexts"], rejected, summary)
                self._examples(out, done, contextless, contexts, rater, summary)  # a stopped run keeps them
                summary.wall_seconds = time.perf_counter() - start
                write_atomic(sidecar(out, "summary.json"), json.dumps(summary.to_dict(), indent=1) + "\n")
                planned = self._next_round(planned, done, contextless, characters)
                if planned is None:
                    return summary

    def _next_round(self, planned: int, done, accepted: list[Example], characters) -> int | None:
        """The utterance calls of the next round (``PillarsConfig.next_round``), None when the run stops: without
        a rater or calls, with ``n`` accepted, at the call limit or when the corpus is used up."""
        config = self.config
        if self.rater is None or not self.calls or len(accepted) >= config.n or planned >= config.call_limit:
            return None
        if sum(bool(c) for c in characters.values()) * config.calls_per_passage < planned:
            return None
        return config.next_round(max(planned, 1 + max((_index(c["id"]) for c in done), default=-1)), len(accepted))

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
                self.given_up.add(result.id)  # not asked again in a later round
            else:
                yield item, result

    def _characters(self, path: Path, rejected: JsonlWriter, summary, planned: int) -> dict[str, list[Character]]:
        """Stage 1 over passages in order until those with characters serve ``planned`` utterance calls."""
        config = self.config
        needed = -(-planned // config.calls_per_passage)
        known = {obj["passage"]: [Character(**c) for c in obj["characters"]] for _, obj in _lines(path)}
        with JsonlWriter(path) as writer:
            position = 0
            if not self.calls:  # the passages read before: up to the last one the stage file knows
                rank = {p: k for k, p in enumerate(self.order)}
                position = 1 + max((rank[p] for p in known if p in rank), default=-1)
            while self.calls and (missing := needed - sum(1 for p in self.order[:position] if known.get(p))) > 0:
                if position >= len(self.order):
                    break
                wave = self.order[position : position + missing + 2]
                position += len(wave)
                todo = [(p,) for p in wave if p not in known and f"characters:{p}" not in self.given_up]

                def request(item, attempt):
                    passage = self.passages[item[0]]
                    seed = seed_for(config.seed, "characters", passage.id, attempt)
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
        return {p: cast for p, cast in known.items() if p in read}

    def _utterances(self, characters, path: Path, rejected: JsonlWriter, summary, planned: int) -> list[dict]:
        """Stage 2: calls ``0 .. planned - 1``, one per (passage with characters, character, target emotion)."""
        config = self.config
        grounded = [p for p in self.order if characters.get(p)]
        done = {obj["id"]: obj for _, obj in _lines(path)}
        todo = []
        for k in range(min(planned, len(grounded) * config.calls_per_passage)):
            call_id = f"pillars-s{config.seed}-{k:06d}"
            if call_id in done or f"utterances:{call_id}" in self.given_up:
                continue
            pid, turn = grounded[k // config.calls_per_passage], k % config.calls_per_passage
            cast = characters[pid]
            character = cast[(rng_for(config.seed, "character", pid).randrange(len(cast)) + turn) % len(cast)]
            todo.append((call_id, pid, character, self.target(k)))

        def request(item, attempt):
            call_id, pid, character, emotion = item
            seed = seed_for(config.seed, call_id, attempt)
            return stages.utterances_request(
                config, self.passages[pid], character, emotion, self.cues.first(emotion), seed, attempt
            )

        def parse(item, completion):
            if completion.truncated and completion.text.count('"') < 4:
                raise InvalidOutput("truncated", f"cut off at {completion.completion_tokens} tokens")
            passage = self.passages[item[1]].text
            return stages.parse_utterances(completion.text, config.per_call, config.utterance_chars, passage)

        with JsonlWriter(path) as writer:
            for item, result in self._stage("utterances", todo, request, parse, rejected, summary):
                call_id, pid, character, emotion = item
                kept, dropped = result
                record = {"id": call_id, "passage": pid, "character": character.to_dict(), "target": emotion}
                done[call_id] = record | {"utterances": kept, "dropped": dropped}
                writer.write(done[call_id])
                self.new_calls.add(call_id)
        summary.dropped_utterances = Counter(r for call in done.values() for r in call["dropped"])
        return sorted(done.values(), key=lambda r: r["id"])

    def _contextless(self, calls, rater, summary: PillarsSummary) -> list[Example]:
        """The context-less examples: the candidates that pass the filters and, with a rater, have their target
        confirmed (``select``); the drops and out-of-taxonomy labels are counted in ``summary``."""
        cfg = self.config
        examples, summary.dropped_examples = apply_filters(
            [ex for ex, _ in candidates(calls, self.passages, self.taxonomy.name)], cfg.min_words, cfg.max_words
        )
        summary.out_of_taxonomy = Counter()
        return examples if rater is None else self._rated(examples, rater, summary, summary.dropped_examples)

    def _rated(self, examples: list[Example], rater, summary, dropped: Counter) -> list[Example]:
        """The examples whose target ``rater`` confirms (``select.soft_labels``), the others counted in ``dropped``."""
        kept, lost, outside = soft_labels(examples, rater, self.taxonomy, self.config.label_threshold)
        dropped.update(lost)
        summary.out_of_taxonomy.update(outside)
        return kept

    def _contexts(self, calls, accepted: list[Example], path: Path, rejected: JsonlWriter, summary) -> dict[str, str]:
        """Stage 3: one call per utterance call, writing contexts for its first ``contexts_per_call`` accepted
        utterances; a context that fails its checks inside a kept reply is dropped alone, with its reason."""
        config = self.config
        done = {obj["id"]: obj["context"] for _, obj in _lines(path)}
        todo = contexts_wanted(calls, accepted, config.contexts_per_call, set(done) | self.given_up)

        def request(item, attempt):
            call_id, call, examples = item
            character = Character(**call["character"])
            seed = seed_for(config.seed, call_id, "contexts", attempt)
            texts = [ex.text for ex in examples]
            return stages.context_request(config, self.passages[call["passage"]], character, texts, seed, attempt)

        def parse(item, completion):
            texts = [ex.text for ex in item[2]]
            return stages.parse_contexts(completion.text, texts, config.context_chars, item[1]["target"])

        with JsonlWriter(path) as writer:
            for (_, _, examples), (contexts, why) in self._stage("context", todo, request, parse, rejected, summary):
                reasons = iter(why)  # one per context that failed its checks, in order
                for ex, context in zip(examples, contexts):
                    if context is None:
                        summary.dropped_contexts[reason := next(reasons)] += 1
                        rejected.write(Rejection(f"context:{ex.id}", -1, reason, []).to_dict())
                        self.given_up.add(f"context:{ex.id}")
                        continue
                    done[ex.id] = context
                    self.new_contexts.add(ex.id)
                    writer.write({"id": ex.id, "context": context})
        return done

    def _examples(self, out: Path, calls, contextless, contexts: dict[str, str], rater, summary) -> None:
        """The example files: the accepted context-less examples, and as contextual examples those of them that
        have a context, rated again with it (a rater that reads context may not confirm the target there)."""
        accepted = {ex.id for ex in contextless}
        contextual = [
            Example(ex.id, ex.text, ex.labels, ex.taxonomy, contexts[ex.id], metadata=meta)
            for ex, character in candidates(calls, self.passages, self.taxonomy.name)
            if ex.id in accepted and ex.id in contexts
            for meta in [ex.metadata | {"character_description": character.description()}]
        ]
        if rater is not None:
            summary.rater, summary.dropped_contextual = rater.identity, Counter()
            contextual = self._rated(contextual, rater, summary, summary.dropped_contextual)
            for completion in rater.unseen_completions():  # an LLM rater's calls are calls of the run
                summary.stages["rating"].add(completion)
        write_records(out.with_name("pillars_contextless.jsonl"), contextless)
        write_records(out.with_name("pillars_contextual.jsonl"), contextual)
        summary.contextless, summary.contextual = len(contextless), len(contextual)
        summary.contextless_new = sum(1 for e in contextless if e.id.partition("/")[0] in self.new_calls)
        summary.contextual_new = sum(1 for e in contextual if e.id in self.new_contexts)
        summary.label_counts = Counter(label for e in contextless for label in e.labels)
        summary.written = Counter(call["target"] for call in calls for _ in call["utterances"])
        summary.accepted = Counter(e.metadata["target"] for e in contextless)


def _index(call_id: str) -> int:
    return int(call_id.rpartition("-")[2])


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return iter_jsonl(path) if path.exists() else iter(())
