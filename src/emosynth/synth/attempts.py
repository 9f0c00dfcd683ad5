"""Attempts in waves, shared by every generation stage: attempt k of every still-failing item is one call of
``complete_many`` (a backend answers a wave concurrently where it can: parallel sequences, replicas, requests), an
answer that fails to parse is retried in the next wave with its failure at hand, and an item that fails its last
attempt is given up with every failure recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.synth.parse import InvalidOutput


@dataclass(frozen=True)
class GaveUp:
    """An item that failed every attempt: the last reason and each attempt's failure (reason, detail, output)."""

    reason: str
    failures: list[dict[str, str]]


def waves(
    backend: LLMBackend,
    items: list,
    request: Callable[[Any, int, dict[str, str] | None], ChatRequest],
    parse: Callable[[Any, Completion, ChatRequest, int], Any],
    attempts: int,
    answered: Callable[[Completion, str | None], None],
    kept_chars: int = 2000,
) -> Iterator[tuple[Any, Any]]:
    """Yields ``(item, parsed)`` for each success and ``(item, GaveUp)`` for an item out of attempts.

    Args:
        request: the request of ``(item, attempt, last failure or None)``.
        parse: ``(item, completion, request, attempt) -> result``; raises ``InvalidOutput`` for a bad answer.
        answered: called with every completion and the reason it failed (None when it parsed), for the counts.
        kept_chars: how much of a failed answer's text the failure record keeps.
    """
    order = {id(item): k for k, item in enumerate(items)}
    failures: dict[int, list[dict[str, str]]] = {id(item): [] for item in items}
    for attempt in range(attempts):
        if not items:
            return
        requests = [request(item, attempt, (failures[id(item)] or [None])[-1]) for item in items]
        retry = []
        for i, completion in backend.complete_many(requests):
            item = items[i]
            try:
                parsed = parse(item, completion, requests[i], attempt)
            except InvalidOutput as exc:
                answered(completion, exc.reason)
                failed = failures[id(item)]
                failed.append({"reason": exc.reason, "detail": exc.detail, "output": completion.text[:kept_chars]})
                if attempt + 1 < attempts:
                    retry.append(item)
                else:
                    yield item, GaveUp(exc.reason, failed)
                continue
            answered(completion, None)
            yield item, parsed
        items = sorted(retry, key=lambda item: order[id(item)])
