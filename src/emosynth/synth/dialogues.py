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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosynth.data.io import JsonlWriter, iter_jsonl
from emosynth.errors import ConfigError
from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.quality.diversity import distinct_n
from emosynth.records import Dialogue, Rejection
from emosynth.synth.config import IDENTITY_FIELDS, DialogueConfig
from emosynth.synth.parse import InvalidOutput, parse_dialogue, word_ngrams
from emosynth.synth.planning import TransitionModel, default_transitions
from emosynth.synth.prompts import load_cues, render_messages, retry_note
from emosynth.synth.specs import DialogueSpec, build_spec, load_scenarios, rng_for
from emosynth.taxonomy import get_taxonomy

log = logging.getLogger(__name__)


def sidecar(out: Path, kind: str) -> Path:
    """``out.jsonl`` -> ``out.<kind>.json[l]``: rejected records, resolved config, run summary."""
    return out.with_name(f"{out.stem}.{kind}")


def check_resumable(out: Path, record: dict[str, Any]) -> None:
    """Refuse to add to ``out`` when it was generated with other settings, backend or model.

    Only keys present in both the saved and the new record are compared, so this runs before a model is
    loaded (without ``backend``/``model``) and again once it is.
    """
    path = sidecar(Path(out), "config.json")
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable run config ({exc}); move it away to start a new dataset") from exc
    for key in (*IDENTITY_FIELDS, "backend", "model"):
        if key in old and key in record and old[key] != record[key]:
            raise ConfigError(
                f"{out} was generated with {key}={old[key]!r}, not {record[key]!r}; "
                "choose another output path to start a new dataset"
            )


def planned_schema(spec: DialogueSpec, max_chars: int) -> dict[str, Any]:
    """Every turn's speaker and emotion are constants; the utterance is the only free text, written last."""

    def turn(plan) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "speaker": {"const": plan.speaker},
                "emotion": {"const": plan.emotion},
                "utterance": {"type": "string", "minLength": 2, "maxLength": max_chars},
            },
            "required": ["speaker", "emotion", "utterance"],
            "additionalProperties": False,
        }

    n = len(spec.plan)
    items = {"type": "array", "prefixItems": [turn(p) for p in spec.plan], "minItems": n, "maxItems": n}
    return {
        "type": "object",
        "properties": {"turns": items},
        "required": ["turns"],
        "additionalProperties": False,
    }


def labelled_schema(spec: DialogueSpec, n_labels: int, turns: tuple[int, int], max_chars: int) -> dict[str, Any]:
    """Free turns: speaker from the cast, utterance, label as one of the numbered symbols."""
    turn = {
        "type": "object",
        "properties": {
            "speaker": {"enum": spec.speakers},
            "utterance": {"type": "string", "minLength": 2, "maxLength": max_chars},
            "label": {"enum": list(range(n_labels))},
        },
        "required": ["speaker", "utterance", "label"],
        "additionalProperties": False,
    }
    items = {"type": "array", "items": turn, "minItems": turns[0], "maxItems": turns[1]}
    return {
        "type": "object",
        "properties": {"turns": items},
        "required": ["turns"],
        "additionalProperties": False,
    }


@dataclass
class RunSummary:
    """What a run did; printed at the end and saved as ``<out>.summary.json``."""

    requested: int = 0
    already_done: int = 0
    accepted: int = 0
    rejected: int = 0
    attempts: int = 0
    cached_responses: int = 0
    rejections_by_reason: Counter = field(default_factory=Counter)
    final_rejections_by_reason: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    generation_seconds: float = 0.0
    wall_seconds: float = 0.0
    label_counts: Counter = field(default_factory=Counter)
    distinct_2: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        done = self.accepted + self.rejected
        return {
            "requested": self.requested,
            "already_done": self.already_done,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "accepted_fraction": round(self.accepted / done, 4) if done else None,
            "attempts": self.attempts,
            "cached_responses": self.cached_responses,
            "rejections_by_reason": dict(self.rejections_by_reason),
            "final_rejections_by_reason": dict(self.final_rejections_by_reason),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "generation_seconds": round(self.generation_seconds, 2),
            "wall_seconds": round(self.wall_seconds, 2),
            "dialogues_per_hour": round(3600 * self.accepted / self.wall_seconds, 1) if self.wall_seconds else None,
            "generated_tokens_per_s": round(self.completion_tokens / self.generation_seconds, 2)
            if self.generation_seconds
            else None,
            "label_counts": dict(self.label_counts),
            "distinct_2": round(self.distinct_2, 4),
        }

    def lines(self) -> list[str]:
        d = self.to_dict()
        out = [
            f"accepted {d['accepted']}, rejected {d['rejected']} (of {d['requested']} requested; "
            f"{d['already_done']} were already done), {d['attempts']} attempts, {d['cached_responses']} from cache",
            f"rejected attempts by reason: {d['rejections_by_reason'] or 'none'}",
            f"rejected dialogues by last reason: {d['final_rejections_by_reason'] or 'none'}",
            f"tokens: {d['prompt_tokens']} prompt, {d['completion_tokens']} generated; "
            f"{d['generated_tokens_per_s']} generated tokens/s; {d['dialogues_per_hour']} dialogues/hour",
            f"labels: {d['label_counts']}; distinct-2 over accepted turns: {d['distinct_2']}",
        ]
        return out


class DialogueSynthesizer:
    """Generates ``config.n`` dialogues into an append-only JSONL file, resuming what is already there.

    Args:
        config: the run's settings.
        backend: any ``LLMBackend`` (wrap it in ``CachedBackend`` for caching and resume of requests).
        few_shot_pool: real dialogues to draw style examples from when ``config.few_shot > 0``.
    """

    def __init__(self, config: DialogueConfig, backend: LLMBackend, few_shot_pool: list[Dialogue] | None = None):
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
        self.cues = load_cues(self.taxonomy, config.cue_file) if config.cues else {}
        self.transitions = self._transitions() if config.labels == "planned" else None
        if config.few_shot and not few_shot_pool:
            raise ConfigError("few_shot > 0 needs real dialogues to draw examples from (few_shot_pool)")
        self.few_shot_pool = few_shot_pool or []
        self.max_chars = config.tokens_per_turn * 3

    def _transitions(self) -> TransitionModel:
        if self.config.transitions_file:
            return TransitionModel.load(self.config.transitions_file, self.taxonomy)
        return default_transitions(self.taxonomy)

    def spec(self, index: int) -> DialogueSpec:
        cfg = self.config
        spec = build_spec(
            index,
            run_seed=cfg.seed,
            taxonomy=self.taxonomy,
            mode=cfg.mode,
            strategy=cfg.labels,
            scenarios=self.scenarios,
            turns=(cfg.min_turns, cfg.max_turns),
            speakers=(cfg.min_speakers, cfg.max_speakers),
            transitions=self.transitions,
            cues=self.cues,
            id_prefix=f"{self.taxonomy.name}-{cfg.mode}-{cfg.labels}-s{cfg.seed}",
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
        if spec.plan is not None:
            messages = render_messages(self.prompt_version, turns=spec.plan, **scene)
            schema = planned_schema(spec, self.max_chars)
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
        return ChatRequest(
            messages=messages,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.max_tokens or cfg.tokens_per_turn * n_turns + 40,
            seed=rng_for(cfg.seed, spec.index, "attempt", attempt).randrange(2**31),
            json_schema=schema,
            repeat_penalty=cfg.repeat_penalty,
            presence_penalty=cfg.presence_penalty,
            frequency_penalty=cfg.frequency_penalty,
            sample_index=spec.index,
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
                "labels": self.config.labels,
                "topic": spec.topic,
                "setting": spec.setting,
                "relationship": spec.relationship,
                "attempt": attempt,
                "cues": bool(self.cues),
                "few_shot": [ex.id for ex in spec.examples],
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
            },
        )

    def config_record(self) -> dict[str, Any]:
        """The resolved configuration saved beside the output (``*.config.json``)."""
        return self.config.model_dump() | {
            "prompt_version": self.prompt_version,
            "backend": self.backend.name,
            "model": self.backend.model_id,
        }

    @staticmethod
    def done_ids(out: Path) -> set[str]:
        done = set()
        for path in (out, sidecar(out, "rejected.jsonl")):
            if path.exists():
                done.update(obj.get("id") for _, obj in iter_jsonl(path))
        return done

    def run(self, out: str | Path, progress: bool = True) -> RunSummary:
        """Generate into ``out``; a rerun skips dialogues already accepted or rejected there."""
        out = Path(out)
        start = time.perf_counter()
        summary = RunSummary(requested=self.config.n)
        record = self.config_record()
        check_resumable(out, record)
        with JsonlWriter(out) as accepted, JsonlWriter(sidecar(out, "rejected.jsonl")) as rejected:
            sidecar(out, "config.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
            done = self.done_ids(out)
            pending = [s for s in map(self.spec, range(self.config.n)) if s.id not in done]
            summary.already_done = self.config.n - len(pending)
            bar = _progress(self.config.n, summary.already_done, progress)
            try:
                for event, payload in self._attempt_waves(pending, summary):
                    if event == "accepted":
                        accepted.write(payload.to_dict())
                        summary.accepted += 1
                        summary.label_counts.update(payload.emotions)
                    else:
                        rejected.write(payload.to_dict())
                        summary.rejected += 1
                        summary.final_rejections_by_reason[payload.reason] += 1
                    bar.update(1)
                    _postfix(bar, summary, start)
            finally:
                bar.close()
                summary.wall_seconds = time.perf_counter() - start
        texts = [t["text"] for _, obj in iter_jsonl(out) for t in obj["turns"]] if out.exists() else []
        summary.distinct_2 = distinct_n(texts, 2)
        sidecar(out, "summary.json").write_text(json.dumps(summary.to_dict(), indent=1) + "\n", encoding="utf-8")
        return summary

    def _attempt_waves(self, pending: list[DialogueSpec], summary: RunSummary) -> Iterator[tuple[str, Any]]:
        """Attempt k of every still-failing dialogue is one wave; a backend may answer a wave concurrently."""
        failures: dict[str, list[dict[str, str]]] = {s.id: [] for s in pending}
        for attempt in range(self.config.max_attempts):
            if not pending:
                return
            requests = [self.request(s, attempt, (failures[s.id] or [None])[-1]) for s in pending]
            retry = []
            for i, completion in self.backend.complete_many(requests):
                spec = pending[i]
                summary.attempts += 1
                summary.cached_responses += completion.cached
                summary.prompt_tokens += completion.prompt_tokens
                summary.completion_tokens += completion.completion_tokens
                summary.generation_seconds += completion.seconds
                try:
                    yield "accepted", self.to_dialogue(spec, completion, requests[i].seed, attempt)
                except InvalidOutput as exc:
                    summary.rejections_by_reason[exc.reason] += 1
                    failures[spec.id].append(
                        {"reason": exc.reason, "detail": exc.detail, "output": completion.text[:2000]}
                    )
                    if attempt + 1 < self.config.max_attempts:
                        retry.append(spec)
                    else:
                        yield "rejected", Rejection(spec.id, spec.index, exc.reason, failures[spec.id])
            pending = sorted(retry, key=lambda s: s.index)


def _progress(total: int, initial: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="dlg", disable=not enabled, dynamic_ncols=True)


def _postfix(bar, summary: RunSummary, start: float) -> None:
    elapsed = max(time.perf_counter() - start, 1e-9)
    bar.set_postfix(
        dlg_s=f"{(summary.accepted + summary.rejected) / elapsed:.3f}",
        tok_s=f"{summary.completion_tokens / max(summary.generation_seconds, 1e-9):.1f}",
        rejected=summary.rejected,
    )
