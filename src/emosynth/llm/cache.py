"""Persistent request/response cache (SQLite in WAL mode) wrapped around any backend.

Every answer is stored under ``cache_key(backend identity, canonical request)`` before it is used, so a
rerun (or a run restarted after a kill) answers finished requests from disk instead of the model.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from emosynth.errors import ConfigError
from emosynth.llm.base import ChatRequest, Completion, LLMBackend, cache_key

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """A key -> Completion store in one SQLite file; safe across threads and processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
            self._conn.commit()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"Cannot open cache {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        """The stored completion of ``key`` (marked ``cached``), or None."""
        with self._lock:
            row = self._conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        completion = Completion(**json.loads(row[0]))
        completion.cached = True
        return completion

    def put(self, key: str, identity: str, request: ChatRequest, completion: Completion) -> None:
        """Store a completion under ``key`` (with the identity and request it answers)."""
        payload = json.dumps(completion.to_dict() | {"cached": False}, ensure_ascii=False)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                (key, identity, request.canonical(), payload, time.time()),
            )
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


class CachedBackend(LLMBackend):
    """Answers from the cache when it can, else from the wrapped backend (and stores the answer)."""

    def __init__(self, backend: LLMBackend, cache: ResponseCache):
        self.backend = backend
        self.cache = cache
        self.name = backend.name
        self.model_id = backend.model_id
        self.fills_templates = backend.fills_templates
        self.chooses = backend.chooses
        self.hits = 0
        self.misses = 0

    def set_chooser(self, chooser) -> None:
        """The wrapped backend's chooser (a request names it, so its answers are cached apart)."""
        self.backend.set_chooser(chooser)

    def identity(self) -> str:
        """The wrapped backend's identity (a cached answer is the same answer)."""
        return self.backend.identity()

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request, from the cache when it can."""
        return next(iter(self.complete_many([request])))[1]

    def complete_many(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[int, Completion]]:
        """Cached answers first, then the wrapped backend's, each stored as it arrives."""
        identity = self.backend.identity()
        pending: list[tuple[int, ChatRequest, str]] = []
        for i, req in enumerate(requests):
            key = cache_key(identity, req)
            hit = self.cache.get(key)
            if hit is not None:
                self.hits += 1
                yield i, hit
            else:
                pending.append((i, req, key))
        if not pending:
            return
        for j, completion in self.backend.complete_many(req for _, req, _ in pending):
            i, req, key = pending[j]
            self.cache.put(key, identity, req, completion)
            self.misses += 1
            yield i, completion

    def close(self) -> None:
        """Close the wrapped backend and the cache."""
        self.backend.close()
        self.cache.close()
