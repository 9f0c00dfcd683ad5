"""Answers in SQLite beside the data (``DATA.review.sqlite``): saved the moment they are given, one row per
annotator and item, so a review stops at any time and continues where it left off.

Each row keeps the text and the assigned labels as they were when answered, so that the summary does not depend on
the data file staying put; the file's sha256 is recorded at the first start and a changed file is refused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from emosynth.data.io import sha256_file, sidecar
from emosynth.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    annotator TEXT NOT NULL,
    item TEXT NOT NULL,
    perceived TEXT NOT NULL,
    incoherent INTEGER NOT NULL DEFAULT 0,
    names_emotion INTEGER NOT NULL DEFAULT 0,
    assigned TEXT NOT NULL,
    text TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'page',
    PRIMARY KEY (annotator, item)
);
"""


@dataclass(frozen=True)
class Answer:
    """One person's label for one item; ``assigned`` is what the data said (first the main label)."""

    annotator: str
    item: str
    perceived: str
    assigned: tuple[str, ...]
    text: str
    incoherent: bool = False
    names_emotion: bool = False
    answered_at: str = ""
    origin: str = "page"  # page | label-studio | argilla

    @property
    def agrees(self) -> bool:
        """The person named one of the assigned labels."""
        return self.perceived in self.assigned

    def to_dict(self) -> dict:
        return asdict(self) | {"assigned": list(self.assigned)}


def store_path(data: str | Path) -> Path:
    """Where a dataset's answers live."""
    return sidecar(data, "review.sqlite")


class AnswerStore:
    """The answers of every annotator of one dataset."""

    def __init__(self, path: str | Path, data_sha256: str | None = None):
        self.path = Path(path)
        with self._db() as db:
            db.executescript(SCHEMA)
            if data_sha256 is not None:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('data_sha256', ?)", (data_sha256,))
                (known,) = db.execute("SELECT value FROM meta WHERE key = 'data_sha256'").fetchone()
                if known != data_sha256:
                    raise ConfigError(
                        f"{self.path}: the data changed since this review started (sha256 {known[:12]} then, "
                        f"{data_sha256[:12]} now); move the answers file away to start a new review"
                    )

    @classmethod
    def beside(cls, data: str | Path) -> AnswerStore:
        """The store of a data file, created on first use; refuses a data file that changed since."""
        return cls(store_path(data), sha256_file(data))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: cannot open the answers database ({exc})") from exc
        try:
            with db:
                yield db
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path}: not a readable answers database ({exc})") from exc
        finally:
            db.close()

    def save(self, answer: Answer) -> None:
        """Store (or replace) one answer, committed at once."""
        row = answer.to_dict() | {
            "assigned": json.dumps(list(answer.assigned)),
            "answered_at": answer.answered_at or datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (annotator, item, perceived, incoherent, names_emotion, assigned, text,"
                " answered_at, origin) VALUES (:annotator, :item, :perceived, :incoherent, :names_emotion, :assigned,"
                " :text, :answered_at, :origin)",
                row,
            )

    def answers(self, annotator: str | None = None) -> list[Answer]:
        """Every answer (of one annotator), oldest first."""
        query = "SELECT annotator, item, perceived, assigned, text, incoherent, names_emotion, answered_at, origin"
        query += " FROM answers" + (" WHERE annotator = ?" if annotator else "") + " ORDER BY answered_at, rowid"
        with self._db() as db:
            rows = db.execute(query, (annotator,) if annotator else ()).fetchall()
        return [
            Answer(a, i, p, tuple(json.loads(s)), t, bool(inc), bool(names), at, origin)
            for a, i, p, s, t, inc, names, at, origin in rows
        ]

    def answered(self, annotator: str) -> set[str]:
        """The items this annotator has answered."""
        with self._db() as db:
            return {k for (k,) in db.execute("SELECT item FROM answers WHERE annotator = ?", (annotator,))}
