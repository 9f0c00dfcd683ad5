"""What a label judge is: anything that re-labels dialogue turns blind, in its own label set; what a rater is:
anything that scores examples on every label of its set (Emo Pillars' soft labels); and what a chooser is: anything
that scores candidate utterances for the label they should express (best-of-n generation).

Floor: above records and taxonomy, below everything else. The judges themselves (an LLM, a classifier trained on
real data) live in ``emosynth.quality.judges``; a stage that needs one (``verify``, or generation that selects
turns) takes it passed in through this protocol instead of importing upwards.
"""

from __future__ import annotations

from typing import Protocol

from emosynth.records import Dialogue, Example
from emosynth.taxonomy import Taxonomy

Position = tuple[Dialogue, int]  # a turn: its dialogue and its index


class Judge(Protocol):
    """A blind labeller of turns.

    Attributes:
        name: the key of its verdicts in reports (``llm``, ``classifier``).
        taxonomy: the label set it answers in.
        identity: what judged (a model name or path), as recorded in reports.
    """

    name: str
    taxonomy: Taxonomy

    @property
    def identity(self) -> str:
        """What judged (a model name or path), as recorded in reports."""
        ...

    def judge(self, positions: list[Position]) -> list[str | None]:
        """One label per position (in ``taxonomy``), or None where it gave no valid answer."""
        ...


class Rater(Protocol):
    """Scores examples on every label of its set, reading an example's context when it has one.

    Attributes:
        name: the key of its scores in reports (``classifier``, ``llm``).
        taxonomy: the label set it scores.
        reads_context: whether a context changes its scores (a context-less rater scores the utterance alone).
        thresholds: its own cut-off per label (e.g. tuned on real dev data), or None: the caller's threshold applies.
    """

    name: str
    taxonomy: Taxonomy
    reads_context: bool
    thresholds: list[float] | None

    @property
    def identity(self) -> str:
        """What rated (a model name or path), as recorded in reports."""
        ...

    def rate(self, examples: list[Example]) -> list[list[float]]:
        """One row per example: a score in [0, 1] for every label of ``taxonomy``, in its order."""
        ...


class Chooser(Protocol):
    """Scores candidate utterances for the label they should express (best-of-n generation keeps the best).

    Attributes:
        identity: what scores (a model path), recorded in the requests that use it and so in their cache keys.
        taxonomy: the label set it scores in.
        rules: the rules it was built with beyond its models (e.g. ``opener_cap=1.5``), None for none: they change
            which candidate it keeps, so the requests name them too.
    """

    identity: str
    taxonomy: Taxonomy
    rules: str | None

    def score(self, label: str, candidates: list[str], history: list[str]) -> list[tuple[float, bool]]:
        """For each candidate: its score for ``label`` (higher is better; negative: never to be kept if another
        is not) and whether ``label`` is the chooser's own reading of it; ``history`` is what was said before."""
        ...

    def kept(self, label: str, text: str) -> None:
        """The backend kept ``text`` for ``label`` (the best-scored candidate): a chooser that remembers what was
        kept (e.g. recent openers) updates itself here."""
        ...


def chooser_models(identity: str) -> list[str]:
    """The classifiers a chooser's identity names: one path, or several separated by commas (they choose together)."""
    return [path.strip() for path in identity.split(",")]


def chooser_rules(opener_cap: float | None) -> str | None:
    """How a chooser's rules beyond its models are named (``Chooser.rules``, ``ChatRequest.chooser_rules``)."""
    return f"opener_cap={opener_cap:g}" if opener_cap else None


def cutoffs(rater: Rater, threshold: float) -> list[float]:
    """The score that makes each of the rater's labels: its own thresholds, else ``threshold`` for all."""
    own = getattr(rater, "thresholds", None)
    return list(own) if own is not None else [threshold] * len(rater.taxonomy.labels)


def labels_made(rater: Rater, examples: list[Example], threshold: float) -> list[set[str]]:
    """The labels the rater makes for each example (scores at or above ``cutoffs``), in its own label set."""
    cut = cutoffs(rater, threshold)
    labels = rater.taxonomy.labels
    return [{k for k, s, t in zip(labels, row, cut) if s >= t} for row in rater.rate(examples)]
