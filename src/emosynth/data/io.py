"""JSONL records on disk: an append-only writer that survives kills, readers with file:line errors."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Example, Turn

log = logging.getLogger(__name__)


def sidecar(out: str | Path, kind: str) -> Path:
    """``out.jsonl`` -> ``out.<kind>``: the files beside a dataset (rejected records, config, summary, caches)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.{kind}")


def check_resumable(
    out: str | Path,
    record: dict[str, Any],
    keys: tuple[str, ...],
    renamed: dict[str, str] | None = None,
    legacy: dict[str, Any] | None = None,
) -> None:
    """Refuse to add to ``out`` when its saved run config (``<out>.config.json``) differs from ``record``.

    Only ``keys`` present in both the saved and the new record are compared, so this can run before a model is
    loaded (without ``backend``/``model``) and again once it is. ``renamed`` maps old key names of saved configs
    to the current ones, and ``legacy`` gives the value of a key that saved configs from before it existed lack,
    so an output written before a rename or a new setting is still checked.
    """
    path = sidecar(out, "config.json")
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable run config ({exc}); move it away to start a new dataset") from exc
    for before, now in (renamed or {}).items():
        if before in old and now not in old:
            old[now] = old.pop(before)
    old = (legacy or {}) | old
    for key in keys:
        if key in old and key in record and old[key] != record[key]:
            raise ConfigError(
                f"{out} was generated with {key}={old[key]!r}, not {record[key]!r}; "
                "choose another output path to start a new dataset"
            )


def csv_rows(path: str | Path, what: str, required: set[str] = frozenset()) -> Iterator[tuple[int, dict[str, str]]]:
    """Yields ``(line number, row)`` of a CSV file with a header; a missing file or ``required`` column is a
    ``ConfigError`` naming the file (``what`` names its format in the message)."""
    try:
        fh = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"Cannot read {what} file {path}: {exc.strerror}") from exc
    with fh:
        reader = csv.DictReader(fh)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(f"{path}:1: missing {what} columns {sorted(missing)}")
        for row in reader:
            yield reader.line_num, row


def group_dialogues(
    groups: dict[Any, list[tuple[int, Turn]]],
    benchmark: str,
    id_of: Callable[[Any], str],
    metadata_of: Callable[[Any], dict[str, Any]],
) -> list[Dialogue]:
    """One dialogue per key of ``groups`` (in key order), its turns ordered by their utterance number."""
    return [
        Dialogue(
            id_of(key),
            [t for _, t in sorted(numbered, key=lambda x: x[0])],
            benchmark,
            benchmark,
            metadata=metadata_of(key),
        )
        for key, numbered in sorted(groups.items())
    ]


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


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file's bytes (what experiment cells record of the data they trained on)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def records_sha256(records: Iterable[Dialogue | Example]) -> str:
    """Hex sha256 of records as JSON: what an experiment cell trained on the first records of a file records, so
    that lines appended to the file later (a sample still being generated) leave the cell as it was."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
    return digest.hexdigest()


def write_atomic(path: str | Path, text: str) -> None:
    """``path`` replaced whole by ``text`` or left as it was (written beside it first, then renamed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Rows as JSONL, replacing ``path`` whole (``write_atomic``)."""
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def write_records(path: str | Path, records) -> None:
    """Dialogues or examples (anything with ``to_dict``) as JSONL, replacing ``path`` whole (``write_atomic``)."""
    write_jsonl(path, (r.to_dict() for r in records))


def ensure_writable(path: str | Path) -> None:
    """Fail early, with the path, when ``path`` cannot be appended to (before any model is loaded)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        with open(path, "a", encoding="utf-8"):
            pass
        if not existed:  # a probe only: a run that fails later leaves no empty file behind
            path.unlink()
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror}") from exc


class JsonlWriter:
    """Appends one JSON object per line and flushes each, so a killed process loses at most the line
    being written (which ``repair_tail`` removes on the next open)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot write {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise ConfigError(
                f"{self.path} is being written by another run; wait for it or choose another output"
            ) from None
        repair_tail(self.path)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a line and flush it."""
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file (and release its lock)."""
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
        lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from exc
    last = len(lines)  # after the final newline comes b"" (complete file) or a partial line
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if n == last:
                log.warning("%s:%d: skipping a partial last line (an interrupted write)", path, n)
                return
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
            raise ConfigError(f"{path}:{n}: not valid JSON ({why})") from exc
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}:{n}: expected a JSON object")
        yield n, obj


def _parsed(path: str | Path, lines: list[tuple[int, dict[str, Any]]], kind: type) -> list[tuple[int, Any]]:
    name = "a dialogue" if kind is Dialogue else "an example"
    out = []
    for n, obj in lines:
        try:
            out.append((n, kind.from_dict(obj)))
        except (TypeError, KeyError) as exc:
            raise ConfigError(f"{path}:{n}: not {name} record ({exc})") from exc
    return out


def read_dialogues(path: str | Path) -> list[Dialogue]:
    """Every dialogue record of a JSONL file; a record of another shape is an error naming file and line."""
    return [r for _, r in _parsed(path, list(iter_jsonl(path)), Dialogue)]


def read_examples(path: str | Path) -> list[Example]:
    """Every example record of a JSONL file; a record of another shape is an error naming file and line."""
    return [r for _, r in _parsed(path, list(iter_jsonl(path)), Example)]


def numbered_records(path: str | Path) -> list[tuple[int, Dialogue]] | list[tuple[int, Example]]:
    """``(line number, record)``: dialogues or examples, whichever the file holds (told by its first record having
    ``turns``); an empty file is an error."""
    lines = list(iter_jsonl(path))
    if not lines:
        raise ConfigError(f"{path}: no records")
    return _parsed(path, lines, Dialogue if "turns" in lines[0][1] else Example)


def read_records(path: str | Path) -> list[Dialogue] | list[Example]:
    """Dialogues or examples, whichever the file holds (told by its first record having ``turns``)."""
    return [r for _, r in numbered_records(path)]
