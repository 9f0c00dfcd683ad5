"""What a label judge is: anything that re-labels dialogue turns blind, in its own label set.

Floor: above records and taxonomy, below everything else. The judges themselves (an LLM, a classifier trained on
real data) live in ``emosynth.quality.judges``; a stage that needs one (``verify``, or generation that selects
turns) takes it passed in through this protocol instead of importing upwards.
"""

from __future__ import annotations

from typing import Protocol

from emosynth.records import Dialogue
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
