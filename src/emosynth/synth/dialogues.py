"""ERC dialogue synthesis (Kaplan, Carneiro, Wermter 2025), Natural and Balanced, two labelling strategies.

- ``llm``: the prompt lists the labels as numbered symbols; the model writes speaker, utterance and label
  number per turn (the paper's method).
- ``planned``: emotions are planned in code (Markov chain from the benchmark; Balanced guarantees the target)
  and the model writes each utterance under a JSON schema that fixes speaker and emotion, emotion first.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emosynth.data.io import JsonlWriter, check_resumable, iter_jsonl, read_dialogues, sidecar
from emosynth.errors import ConfigError
from emosynth.judge import Chooser
from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.records import Dialogue, Rejection
from emosynth.synth.attempts import GaveUp, waves
from emosynth.synth.config import IDENTITY_FIELDS, LEGACY, SAMPLING_FIELDS, DialogueConfig
from emosynth.synth.parse import InvalidOutput, parse_dialogue
from emosynth.synth.planning import TransitionModel, default_transitions
from emosynth.synth.prompts import Cues, load_cues, render_messages, retry_note
from emosynth.synth.schemas import labelled_schema, planned_schema, planned_template
from emosynth.synth.selection import best_of, checked_chooser, judged_turns, replay_kept
from emosynth.synth.specs import DialogueSpec, build_spec, load_scenarios, replacements, rng_for, seed_for
from emosynth.synth.summary import RunSummary, progress_bar, show_rates, write_summary
from emosynth.taxonomy import get_taxonomy
from emosynth.text import word_ngrams

log = logging.getLogger(__name__)
# a run resumes into an output only when these agree (cues_version: the cue file's, recorded when cues are on)
RESUME_KEYS = (*IDENTITY_FIELDS, "cues_version", "backend", "model")
RENAMED = {"labels": "labelling"}  # config keys of outputs written by earlier versions


def check_output(out: Path, record: dict[str, Any]) -> None:
    """Refuse to resume into ``out`` when it was made with other settings (``data.io.check_resumable``)."""
    if not record.get("min_judge_score"):  # without a bar there is nothing to retry: the rounds change nothing
        record = {k: v for k, v in record.items() if k != "judge_rounds"}
    check_resumable(out, record, RESUME_KEYS, RENAMED, LEGACY)


class DialogueSynthesizer:
    """Generates ``config.n`` dialogues into an append-only JSONL file, resuming what is already there.

    Args:
        config: the run's settings.
        backend: any ``LLMBackend`` (wrap it in ``CachedBackend`` for caching and resume of requests).
        few_shot_pool: real dialogues to draw style examples from when ``config.few_shot > 0``.
        chooser: scores candidate turns when ``config.judge`` is set (``emosynth.judge.Chooser``); the backend
            keeps the best of ``config.best_of`` candidates per turn.
    """

    def __init__(
        self,
        config: DialogueConfig,
        backend: LLMBackend,
        few_shot_pool: list[Dialogue] | None = None,
        chooser: Chooser | None = None,
    ):
        self.config = config
        self.backend = backend
        self.taxonomy = get_taxonomy(config.taxonomy)
        self.prompt_version = config.resolved_prompt_version
        self.scenarios = load_scenarios(config.scenario_file)
        n_names = len(set(self.scenarios["names"]))
        if n_names < config.max_speakers:
            raise ConfigError(
                f"{config.scenario_file or 'scenarios.yaml'}: {n_names} distinct names "
                f"cannot fill max_speakers={config.max_speakers}"
            )
        self.cues = load_cues(self.taxonomy, config.cue_file) if config.cues else Cues()
        self.transitions = self._transitions() if config.labelling == "planned" else None
        if config.few_shot and not few_shot_pool:
            raise ConfigError("few_shot > 0 needs real dialogues to draw examples from (few_shot_pool)")
        self.few_shot_pool = few_shot_pool or []
        self.max_chars = config.tokens_per_turn * 3
        # what this run's replies are really made with (a backend that cannot fill templates uses the schema)
        self.decoding = config.decoding if backend.fills_templates else "schema"
        self.chooser = chooser
        if config.judge:
            backend.set_chooser(checked_chooser(config, chooser, self.taxonomy.name))

    def _transitions(self) -> TransitionModel:
        if self.config.transitions_file:
            return TransitionModel.load(self.config.transitions_file, self.taxonomy)
        return default_transitions(self.taxonomy)

    def spec(self, index: int) -> DialogueSpec:
        """What dialogue ``index`` of this run asks for (scenario, plan, examples); fully seeded."""
        cfg = self.config
        spec = build_spec(
            index,
            run_seed=cfg.seed,
            taxonomy=self.taxonomy,
            mode=cfg.mode,
            strategy=cfg.labelling,
            scenarios=self.scenarios,
            turns=(cfg.min_turns, cfg.max_turns),
            speakers=(cfg.min_speakers, cfg.max_speakers),
            transitions=self.transitions,
            cues=self.cues,
            id_prefix=f"{self.taxonomy.name}-{cfg.mode}-{cfg.labelling}-s{cfg.seed}",
        )
        if cfg.few_shot:
            rng = rng_for(cfg.seed, index, "examples")
            pool = [d for d in self.few_shot_pool if len(d.turns) >= 3] or self.few_shot_pool
            picks = rng.sample(pool, min(cfg.few_shot, len(pool)))
            spec.examples = [Dialogue(d.id, d.turns[:8], d.taxonomy, d.source) for d in picks]
        return spec

    def request(self, spec: DialogueSpec, attempt: int, previous: dict[str, str] | None = None) -> ChatRequest:
        """The request of ``attempt``; with ``retry_feedback`` a retry tells the model why ``previous`` failed."""
        cfg = self.config
        scene = dict(
            speakers=spec.speakers,
            relationship=spec.relationship,
            setting=spec.setting,
            topic=spec.topic,
            examples=spec.examples,
        )
        template = None
        if spec.plan is not None:
            messages = render_messages(self.prompt_version, turns=spec.plan, **scene)
            schema = planned_schema(spec, self.max_chars)
            template = planned_template(spec) if self.decoding == "template" else None
        else:
            target_index = self.taxonomy.index(spec.target) if spec.target else None
            messages = render_messages(
                self.prompt_version,
                n_turns=spec.n_turns,
                numbered=self.taxonomy.numbered(),
                target=spec.target,
                target_index=target_index,
                **scene,
            )
            schema = labelled_schema(spec, len(self.taxonomy.labels), (cfg.min_turns, cfg.max_turns), self.max_chars)
        note = retry_note(previous["reason"], previous["detail"]) if previous and cfg.retry_feedback else None
        if note:
            messages = (*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + "\n\n" + note})
        n_turns = spec.n_turns if spec.plan is not None else cfg.max_turns
        choice = {}
        if template is not None:
            choice = best_of(self.chooser, cfg.best_of, spec, cfg.min_judge_score, cfg.judge_rounds)
        return ChatRequest(
            messages=messages,
            max_tokens=cfg.max_tokens or cfg.tokens_per_turn * n_turns + 40,
            seed=seed_for(cfg.seed, spec.index, "attempt", attempt),
            json_schema=schema,
            sample_index=spec.index,
            template=template,
            hole_max_chars=self.max_chars if template else None,
            **choice,
            **cfg.model_dump(include=set(SAMPLING_FIELDS)),
        )

    def to_dialogue(self, spec: DialogueSpec, completion: Completion, seed: int, attempt: int) -> Dialogue:
        """The accepted dialogue, or ``InvalidOutput`` with the reason it is not acceptable."""
        if completion.truncated:
            raise InvalidOutput("truncated", f"reply cut off at {completion.completion_tokens} tokens")
        ngrams = (
            set().union(*(word_ngrams(t.text) for ex in spec.examples for t in ex.turns))
            if spec.examples
            else frozenset()
        )
        turns = parse_dialogue(
            completion.text, spec, self.taxonomy, (self.config.min_turns, self.config.max_turns), ngrams
        )
        judged = judged_turns(self.chooser, self.config.min_judge_score, turns, completion)
        return Dialogue(
            id=spec.id,
            turns=turns,
            taxonomy=self.taxonomy.name,
            mode=self.config.mode,
            target_emotion=spec.target,
            backend=self.backend.name,
            model=self.backend.model_id,
            seed=seed,
            prompt_version=self.prompt_version,
            metadata={
                "labelling": self.config.labelling,
                "topic": spec.topic,
                "setting": spec.setting,
                "relationship": spec.relationship,
                "attempt": attempt,
                "cues": bool(self.cues),
                "few_shot": [ex.id for ex in spec.examples],
                "decoding": self.decoding,
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
            }
            | judged,
        )

    def config_record(self) -> dict[str, Any]:
        """The resolved configuration saved beside the output (``*.config.json``)."""
        return (
            self.config.model_dump()
            | {
                "decoding": self.decoding,
                "prompt_version": self.prompt_version,
                "backend": self.backend.name,
                "model": self.backend.model_id,
            }
            | ({"cues_version": self.cues.version} if self.cues else {})
        )

    @staticmethod
    def done_ids(out: Path) -> set[str]:
        """Ids already in ``out`` or its rejected sidecar: a rerun skips them."""
        done = set()
        for path in (out, sidecar(out, "rejected.jsonl")):
            if path.exists():
                done.update(obj.get("id") for _, obj in iter_jsonl(path))
        return done

    def run(self, out: str | Path, progress: bool = True) -> RunSummary:
        """Generate into ``out``; a rerun skips dialogues already accepted or rejected there. With
        ``replace_given_up``, each dialogue given up is replaced by a new one (``specs.replacements``)."""
        out = Path(out)
        start = time.perf_counter()
        summary = RunSummary(requested=self.config.n)
        record = self.config_record()
        check_output(out, record)
        try:
            with JsonlWriter(out) as accepted, JsonlWriter(sidecar(out, "rejected.jsonl")) as rejected:
                sidecar(out, "config.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
                done = self.done_ids(out)
                kept = Counter(d.target_emotion for d in read_dialogues(out)) if out.exists() else Counter()
                if self.chooser is not None and out.exists():
                    replay_kept(self.chooser, read_dialogues(out))
                pending = [s for s in map(self.spec, range(self.config.n)) if s.id not in done]
                summary.already_done = self.config.n - len(pending)
                bar = progress_bar(self.config.n, summary.already_done, progress)
                try:
                    while pending:
                        for event, payload in self._attempt_waves(pending, summary):
                            if event == "accepted":
                                accepted.write(payload.to_dict())
                                summary.accepted += 1
                                summary.label_counts.update(payload.emotions)
                                summary.add_judged(payload.metadata.get("judge"))
                                kept[payload.target_emotion] += 1
                            else:
                                rejected.write(payload.to_dict())
                                summary.rejected += 1
                                summary.final_rejections_by_reason[payload.reason] += 1
                            bar.update(1)
                            show_rates(bar, summary, start)
                        done.update(s.id for s in pending)
                        more = self.config.replace_given_up
                        pending = replacements(self.spec, self.config.n, kept, done) if more else []
                        summary.replacements += len(pending)
                        bar.total += len(pending)
                finally:
                    bar.close()
                    summary.wall_seconds = time.perf_counter() - start
        except KeyboardInterrupt:  # what this invocation did is still worth recording
            summary.interrupted = True
            write_summary(out, summary)
            raise
        write_summary(out, summary)
        return summary

    def _attempt_waves(self, pending: list[DialogueSpec], summary: RunSummary) -> Iterator[tuple[str, Any]]:
        """Attempt k of every still-failing dialogue is one wave (``synth.attempts.waves``)."""

        def answered(completion: Completion, reason: str | None) -> None:
            summary.attempts += 1
            if completion.cached:  # decoded by an earlier run: its tokens and time are that run's
                summary.cached_responses += 1
                summary.replayed_rejections += reason is not None
                return
            summary.prompt_tokens += completion.prompt_tokens
            summary.completion_tokens += completion.completion_tokens
            summary.forced_tokens += completion.extra.get("forced_tokens", 0)
            summary.redraws += completion.extra.get("redraws", 0)
            summary.generation_seconds += completion.seconds
            if reason:
                summary.rejections_by_reason[reason] += 1

        def parse(spec: DialogueSpec, completion: Completion, request: ChatRequest, attempt: int) -> Dialogue:
            return self.to_dialogue(spec, completion, request.seed, attempt)

        attempts = self.config.max_attempts
        for spec, result in waves(self.backend, pending, self.request, parse, attempts, answered):
            if isinstance(result, GaveUp):
                yield "rejected", Rejection(spec.id, spec.index, result.reason, result.failures)
            else:
                yield "accepted", result
