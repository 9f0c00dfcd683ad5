"""JSONL records on disk: an append-only writer that survives kills, readers with file:line errors."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Example

log = logging.getLogger(__name__)


def repair_tail(path: Path) -> int:
    """Cut a trailing partial line (left by a killed writer); returns the number of bytes removed."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        pos = size
        while pos > 0:
            step = min(4096, pos)
            fh.seek(pos - step)
            block = fh.read(step)
            idx = block.rfind(b"\n")
            if idx >= 0:
                pos = pos - step + idx + 1
                break
            pos -= step
        if pos != size:
            fh.truncate(pos)
            log.warning("%s: removed a partial last line (%d bytes) left by an interrupted run", path, size - pos)
        return size - pos


def ensure_writable(path: str | Path) -> None:
    """Fail early, with the path, when ``path`` cannot be appended to (before any model is loaded)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror}") from exc


class JsonlWriter:
    """Appends one JSON object per line and flushes each, so a killed process loses at most the line
    being written (which ``repair_tail`` removes on the next open)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            repair_tail(self.path)
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot write {self.path}: {exc.strerror}") from exc

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields ``(line number, object)``; a malformed line raises an error naming file and line.

    A malformed *last* line without a newline is a write cut short by a kill: it is skipped with a warning.
    """
    path = Path(path)
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from exc
    with fh:
        lines = fh.readlines()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if n == len(lines) and not line.endswith("\n"):
                log.warning("%s:%d: skipping a partial last line", path, n)
                return
            raise ConfigError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}:{n}: expected a JSON object")
        yield n, obj


def read_dialogues(path: str | Path) -> list[Dialogue]:
    out = []
    for n, obj in iter_jsonl(path):
        try:
            out.append(Dialogue.from_dict(obj))
        except (TypeError, KeyError) as exc:
            raise ConfigError(f"{path}:{n}: not a dialogue record ({exc})") from exc
    return out


def read_examples(path: str | Path) -> list[Example]:
    out = []
    for n, obj in iter_jsonl(path):
        try:
            out.append(Example.from_dict(obj))
        except TypeError as exc:
            raise ConfigError(f"{path}:{n}: not an example record ({exc})") from exc
    return out
