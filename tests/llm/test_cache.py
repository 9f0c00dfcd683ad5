import sqlite3

from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.llm.cache import CachedBackend, ResponseCache


class CountingBackend(LLMBackend):
    """A deterministic stand-in model: the cache (the component under test) is real."""

    name = "counting"
    model_id = "m1"

    def __init__(self):
        self.calls = 0

    def complete(self, request):
        self.calls += 1
        return Completion(f"answer-{request.seed}-{self.calls}", "stop", 3, 5, self.model_id, seconds=0.5)


def req(seed, index=0):
    return ChatRequest(messages=({"role": "user", "content": "x"},), seed=seed, sample_index=index)


def test_second_request_is_answered_from_disk(tmp_path):
    inner = CountingBackend()
    cached = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite"))
    first = cached.complete(req(1))
    again = cached.complete(req(1))
    assert inner.calls == 1 and again.text == first.text and again.cached and not first.cached
    cached.complete(req(2))
    cached.complete(req(1, index=1))
    assert inner.calls == 3


def test_cache_survives_a_new_process_and_uses_wal(tmp_path):
    path = tmp_path / "c.sqlite"
    CachedBackend(CountingBackend(), ResponseCache(path)).complete(req(7))
    inner = CountingBackend()
    reopened = CachedBackend(inner, ResponseCache(path))
    assert reopened.complete(req(7)).text == "answer-7-1" and inner.calls == 0
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_complete_many_mixes_hits_and_misses_in_positions(tmp_path):
    inner = CountingBackend()
    cached = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite"))
    cached.complete(req(2))
    got = dict(cached.complete_many([req(1), req(2), req(3)]))
    assert sorted(got) == [0, 1, 2]
    assert got[1].cached and not got[0].cached and not got[2].cached
    assert cached.hits == 1 and cached.misses == 3
