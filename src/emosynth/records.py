"""The record types every stage passes around: ``Turn`` and ``Dialogue`` (ERC), ``Example`` (utterance level),
``Passage`` and ``Character`` (the story grounding of Emo Pillars); and the relation types of a knowledge file
(TODKAT's commonsense inferences per utterance)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# ATOMIC relation types a knowledge file holds per utterance (``{"text", "relations": {relation: inference}}``)
ATOMIC_RELATIONS = ("xIntent", "xReact", "xWant", "oReact", "xEffect")


def relation_types(names: list[str]) -> list[str]:
    """Some of ``ATOMIC_RELATIONS`` (TODKAT reading part of its knowledge), in their order, once each; a
    ``ValueError`` names an unknown one, or none given."""
    if (unknown := sorted(set(names) - set(ATOMIC_RELATIONS))) or not names:
        raise ValueError(f"some of {', '.join(ATOMIC_RELATIONS)}, not {', '.join(unknown) or 'none'}")
    return [r for r in ATOMIC_RELATIONS if r in names]


@dataclass(slots=True)
class Turn:
    """One utterance of a dialogue."""

    speaker: str
    text: str
    emotion: str


@dataclass(slots=True)
class Dialogue:
    """A multi-party dialogue with one emotion label per turn, real or synthetic."""

    id: str
    turns: list[Turn]
    taxonomy: str
    source: str = "synthetic"
    mode: str | None = None
    target_emotion: str | None = None
    backend: str | None = None
    model: str | None = None
    seed: int | None = None
    prompt_version: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def speakers(self) -> list[str]:
        """Speakers in order of first appearance."""
        return list(dict.fromkeys(t.speaker for t in self.turns))

    @property
    def emotions(self) -> list[str]:
        """The label of each turn, in order."""
        return [t.emotion for t in self.turns]

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record (with the speakers listed)."""
        d = asdict(self)
        d["speakers"] = self.speakers
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dialogue:
        """A dialogue from its JSONL record."""
        d = dict(d)
        d.pop("speakers", None)
        d["turns"] = [Turn(**t) for t in d["turns"]]
        return cls(**d)


@dataclass(slots=True)
class Rejection:
    """A requested item that failed validation on every attempt; ``attempts`` holds each reason and reply."""

    id: str
    index: int
    reason: str
    attempts: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record of ``*.rejected.jsonl``."""
        return asdict(self)


@dataclass(slots=True)
class Example:
    """One text with one or more labels (utterance-level datasets; optional context)."""

    id: str
    text: str
    labels: list[str]
    taxonomy: str
    context: str | None = None
    source: str = "synthetic"
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        """An example from its JSONL record."""
        return cls(**d)


@dataclass(slots=True)
class Passage:
    """A piece of a story short enough to fit a prompt (Emo Pillars' grounding); ``id`` is stable for a corpus and a
    passage size, so a rerun over the same stories resumes."""

    id: str
    story: str
    index: int
    text: str
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        """A passage from its JSONL record."""
        return cls(**d)


@dataclass(slots=True)
class Character:
    """Someone who acts or speaks in a passage, as the LLM described them (Emo Pillars' first stage)."""

    id: str  # <passage id>#<k>
    passage: str
    name: str
    role: str
    traits: str
    situation: str

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record."""
        return asdict(self)

    def description(self) -> str:
        """One line: who they are and where they stand in the passage."""
        return f"{self.name}, {self.role}; {self.traits}. {self.situation}".strip()
