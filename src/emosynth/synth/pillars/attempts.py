"""Attempts in waves: every item's first attempt in one call of ``complete_many``, then the retries of those that
failed, and so on; a backend answers a wave concurrently where it can (parallel sequences, replicas, requests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.records import Rejection
from emosynth.synth.parse import InvalidOutput
from emosynth.synth.pillars.summary import StageCount

Parser = Callable[[Any, Completion], Any]


def waves(
    backend: LLMBackend,
    stage: str,
    items: list[tuple],
    request: Callable[[Any, int], ChatRequest],
    parse: Parser,
    attempts: int,
    count: StageCount,
    progress: bool = False,
) -> Iterator[tuple[Any, Any]]:
    """Attempt k of every still-failing item is one wave (answered concurrently where the backend can); yields
    ``(item, parsed)`` for each success and ``(item, Rejection)`` for an item that failed its last attempt (its id
    ``<stage>:<item[0]>``)."""
    from tqdm.auto import tqdm

    failures: dict[int, list[dict[str, str]]] = {id(item): [] for item in items}
    with tqdm(total=len(items), desc=stage, disable=not progress or not items, dynamic_ncols=True) as bar:
        yield from _attempts(backend, stage, items, request, parse, attempts, count, failures, bar)


def _attempts(backend, stage, items, request, parse, attempts, count, failures, bar) -> Iterator[tuple[Any, Any]]:
    for attempt in range(attempts):
        if not items:
            return
        retry = []
        for i, completion in backend.complete_many([request(item, attempt) for item in items]):
            item = items[i]
            count.add(completion)
            try:
                parsed = parse(item, completion)
            except InvalidOutput as exc:
                count.rejected_attempts[exc.reason] += 1
                failures[id(item)].append({"reason": exc.reason, "detail": exc.detail, "output": completion.text[:500]})
                if attempt + 1 < attempts:
                    retry.append(item)
                else:
                    count.failed[exc.reason] += 1
                    bar.update(1)
                    yield item, Rejection(f"{stage}:{item[0]}", -1, exc.reason, failures[id(item)])
                continue
            bar.update(1)
            yield item, parsed
        items = retry
