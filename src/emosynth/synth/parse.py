"""Turning a model's reply into turns, or into a rejection with a reason. Never raises anything else."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from emosynth.errors import ConfigError
from emosynth.records import Turn
from emosynth.synth.specs import DialogueSpec
from emosynth.taxonomy import Taxonomy
from emosynth.text import normalise, word_ngrams

REASONS = (
    "truncated",
    "unparseable",
    "schema",
    "unknown_label",
    "unknown_speaker",
    "turn_count",
    "plan_mismatch",
    "empty_utterance",
    "repeated_utterance",
    "missing_target",
    "copied_example",
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


class InvalidOutput(Exception):
    """A reply that cannot become a dialogue; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class _TurnOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    speaker: str
    utterance: str
    emotion: str | None = None
    label: int | str | None = None


class _DialogueOut(BaseModel):
    turns: list[_TurnOut]


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a fenced block, or the outermost ``{...}``."""
    candidates = [text, _FENCE.sub("", text.strip())]
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{") : text.rindex("}") + 1])
    for c in candidates:
        try:
            return json.loads(c)
        except (json.JSONDecodeError, RecursionError):
            continue
    raise InvalidOutput("unparseable", f"no JSON object in {text[:60]!r}")


def _label(raw: int | str | None, taxonomy: Taxonomy) -> str:
    """A label given as its number (the symbols shown in the prompt) or, leniently, its name."""
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip(), re.ASCII):
        raw = int(raw.strip())
    if isinstance(raw, int) and not isinstance(raw, bool):
        if (label := taxonomy.label_of(raw)) is not None:
            return label
        raise InvalidOutput("unknown_label", f"label number {raw} outside 0..{len(taxonomy.labels) - 1}")
    if isinstance(raw, str):
        try:
            return taxonomy.check(raw.strip())
        except ConfigError as exc:
            raise InvalidOutput("unknown_label", str(exc)) from exc
    raise InvalidOutput("unknown_label", f"missing label: {raw!r}")


def parse_dialogue(
    text: str,
    spec: DialogueSpec,
    taxonomy: Taxonomy,
    turn_range: tuple[int, int],
    example_ngrams: set[tuple[str, ...]] = frozenset(),
) -> list[Turn]:
    """Validate a reply against its spec. Raises ``InvalidOutput`` (only) when it is not acceptable."""
    try:
        out = _DialogueOut.model_validate(extract_json(text))
    except ValidationError as exc:
        raise InvalidOutput("schema", str(exc.errors()[0].get("msg", ""))[:120]) from None
    turns = _planned_turns(out, spec) if spec.plan is not None else _labelled_turns(out, spec, taxonomy, turn_range)
    seen: set[str] = set()
    for i, turn in enumerate(turns, start=1):
        key = normalise(turn.text)
        if not key:
            raise InvalidOutput("empty_utterance", f"turn {i}")
        if key in seen:
            raise InvalidOutput("repeated_utterance", f"turn {i} repeats an earlier turn: {turn.text[:60]!r}")
        seen.add(key)
        if example_ngrams and word_ngrams(turn.text) & example_ngrams:
            raise InvalidOutput("copied_example", f"turn {i} shares 4 words with a few-shot example")
    if spec.target is not None and spec.target not in {t.emotion for t in turns}:
        raise InvalidOutput("missing_target", f"no turn labelled {spec.target}")
    return turns


def _planned_turns(out: _DialogueOut, spec: DialogueSpec) -> list[Turn]:
    if len(out.turns) != len(spec.plan):
        raise InvalidOutput("turn_count", f"{len(out.turns)} turns, planned {len(spec.plan)}")
    turns = []
    for i, (got, want) in enumerate(zip(out.turns, spec.plan), start=1):
        if got.speaker.strip().casefold() != want.speaker.casefold() or (
            got.emotion is not None and got.emotion.strip().casefold() != want.emotion.casefold()
        ):
            raise InvalidOutput(
                "plan_mismatch",
                f"turn {i}: {got.speaker}/{got.emotion}, planned {want.speaker}/{want.emotion}",
            )
        turns.append(Turn(speaker=want.speaker, text=got.utterance.strip(), emotion=want.emotion))
    return turns


def _labelled_turns(out: _DialogueOut, spec: DialogueSpec, taxonomy: Taxonomy, turn_range) -> list[Turn]:
    lo, hi = turn_range
    if not lo <= len(out.turns) <= hi:
        raise InvalidOutput("turn_count", f"{len(out.turns)} turns, expected {lo}-{hi}")
    speakers = {s.casefold(): s for s in spec.speakers}
    turns = []
    for i, got in enumerate(out.turns, start=1):
        name = speakers.get(got.speaker.strip().casefold())
        if name is None:
            raise InvalidOutput("unknown_speaker", f"turn {i}: {got.speaker[:40]!r}")
        raw = got.label if got.label is not None else got.emotion
        turns.append(Turn(speaker=name, text=got.utterance.strip(), emotion=_label(raw, taxonomy)))
    return turns
