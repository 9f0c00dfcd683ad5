"""The one typed configuration of an Emo Pillars run (saved beside every output)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emosynth.errors import ConfigError, validated
from emosynth.synth.specs import rng_for

# Fields that change what the examples look like: resuming into an output made with other values is refused.
IDENTITY_FIELDS = (
    "taxonomy",
    "seed",
    "passage_words",
    "max_characters",
    "calls_per_passage",
    "per_call",
    "contexts_per_call",
    "targets",
    "decoding",
    "temperature",
    "top_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "utterance_chars",
    "context_chars",
    "prompt_versions",
)
SAMPLING_FIELDS = ("temperature", "top_p", "repeat_penalty", "presence_penalty", "frequency_penalty")
SHAPES = "short exclamations, questions, plain statements and remarks of two sentences, from 3 to 30 words"


class PillarsConfig(BaseModel):
    """Settings of ``emosynth generate pillars``.

    ``n`` counts the context-less examples asked for. Utterance calls, each over one (passage, character, target
    emotion) asking for ``per_call`` utterances, are made ``calls_per_passage`` to a passage (its characters in
    turn, so one characters call serves several utterance calls). Without a rater every utterance that passes the
    filters is an example, and the run makes ``ceil(n / per_call)`` calls. With a rater only those whose target it
    confirms are, and the run makes calls in rounds, each sized from the share accepted so far, until ``n`` are
    accepted or ``max_calls`` calls are made (default: ``4 * ceil(n / per_call)``). Then ``contexts_per_call`` of
    each call's accepted utterances get a context, all in one call, and become contextual examples (rated again,
    with the context): contexts are written only for utterances worth keeping.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    taxonomy: str = "goemotions"
    n: int = Field(90, ge=1)
    seed: int = 0
    passage_words: int = Field(300, ge=20, le=2000)
    max_characters: int = Field(4, ge=1, le=10)
    calls_per_passage: int = Field(4, ge=1, le=28)  # utterance calls per passage, on its characters in turn
    per_call: int = Field(6, ge=1, le=12)
    contexts_per_call: int = Field(1, ge=0, le=10)
    targets: dict[str, float] | None = None  # None: balanced over all labels; else relative weights per label
    decoding: Literal["template", "schema"] = "template"
    max_attempts: int = Field(3, ge=1, le=20)
    max_calls: int | None = Field(None, ge=1, description="utterance calls at most (with a rater)")
    # new utterance calls per round at most (with a rater): a round's examples are rated, given contexts and written
    # before the next round starts, so a long run keeps producing examples (and a stopped one has them)
    round_calls: int = Field(60, ge=1)
    temperature: float = Field(0.9, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0)
    presence_penalty: float = Field(0.3, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    utterance_chars: int = Field(240, ge=20, le=2000)
    # selection (recomputed at the end of every run, so changing them only rebuilds the example files)
    min_words: int = Field(2, ge=1)
    max_words: int = Field(60, ge=2)
    label_threshold: float = Field(0.3, gt=0.0, lt=1.0, description="a rater's score that makes a label")
    context_chars: int = Field(400, ge=40, le=4000)
    prompt_versions: dict[str, str] = {
        "characters": "pillars_characters.v1",
        "utterances": "pillars_utterances.v2",
        "context": "pillars_context.v2",
    }

    @model_validator(mode="after")
    def _contexts(self) -> PillarsConfig:
        if self.contexts_per_call > self.per_call:
            raise ValueError(f"contexts_per_call ({self.contexts_per_call}) exceeds per_call ({self.per_call})")
        if self.targets is not None and (not self.targets or min(self.targets.values()) < 0):
            raise ValueError("targets needs at least one label and no negative weight")
        return self

    @property
    def calls(self) -> int:
        """Utterance calls of the first round (all of them without a rater)."""
        return -(-self.n // self.per_call)

    @property
    def call_limit(self) -> int:
        """Utterance calls a run with a rater makes at most."""
        return self.max_calls or 4 * self.calls

    def target(self, k: int, labels: tuple[str, ...] | list[str]) -> str:
        """The emotion of utterance call ``k``: balanced rounds over ``labels`` (each once per round, in a seeded
        order per round), or drawn by the configured weights."""
        if self.targets:
            names, weights = zip(*self.targets.items())
            return rng_for(self.seed, "target", k).choices(names, weights)[0]
        labels = list(labels)
        rng_for(self.seed, "round", k // len(labels)).shuffle(labels)
        return labels[k % len(labels)]

    def next_round(self, made: int, accepted: int) -> int:
        """Utterance calls after a round of ``made`` calls that gave ``accepted`` examples: enough for the ones still
        missing at the acceptance per call so far (plus a tenth), twice as many when none was accepted; at most
        ``round_calls`` more and ``call_limit`` in all."""
        per_call = accepted / made
        wanted = made + math.ceil(1.1 * (self.n - accepted) / per_call) if per_call else 2 * made
        return min(max(wanted, made + 1), made + self.round_calls, self.call_limit)

    @classmethod
    def create(cls, **values) -> PillarsConfig:
        """Build from explicit values (``None`` values keep the defaults)."""
        config = validated(cls, **{k: v for k, v in values.items() if v is not None})
        if config.targets:
            from emosynth.taxonomy import get_taxonomy

            taxonomy = get_taxonomy(config.taxonomy)
            try:
                config.targets = {taxonomy.check(label): w for label, w in config.targets.items()}
            except ConfigError as exc:
                raise ConfigError(f"targets: {exc}") from exc
        return config
