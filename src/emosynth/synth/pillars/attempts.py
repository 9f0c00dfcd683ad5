"""A Pillars stage's attempts (``synth.attempts.waves``) with its progress bar and counts: an item is a tuple whose
first field is its id; one given up becomes a ``Rejection`` with the id ``<stage>:<id>``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.records import Rejection
from emosynth.synth.attempts import GaveUp
from emosynth.synth.attempts import waves as attempt_waves
from emosynth.synth.pillars.summary import StageCount


def waves(
    backend: LLMBackend,
    stage: str,
    items: list[tuple],
    request: Callable[[Any, int], ChatRequest],
    parse: Callable[[Any, Completion], Any],
    attempts: int,
    count: StageCount,
    progress: bool = False,
) -> Iterator[tuple[Any, Any]]:
    """Yields ``(item, parsed)`` for each success and ``(item, Rejection)`` for an item that failed its last
    attempt; ``request(item, attempt)`` and ``parse(item, completion)`` are the stage's own."""
    from tqdm.auto import tqdm

    def answered(completion: Completion, reason: str | None) -> None:
        count.add(completion)
        if reason:
            count.rejected_attempts[reason] += 1

    def ask(item: tuple, attempt: int, _failure: dict[str, str] | None) -> ChatRequest:
        return request(item, attempt)

    def read(item: tuple, completion: Completion, _request: ChatRequest, _attempt: int) -> Any:
        return parse(item, completion)

    with tqdm(total=len(items), desc=stage, disable=not progress or not items, dynamic_ncols=True) as bar:
        for item, result in attempt_waves(backend, items, ask, read, attempts, answered, kept_chars=500):
            bar.update(1)
            if isinstance(result, GaveUp):
                count.failed[result.reason] += 1
                result = Rejection(f"{stage}:{item[0]}", -1, result.reason, result.failures)
            yield item, result
