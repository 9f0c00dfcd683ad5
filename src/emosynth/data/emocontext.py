"""EmoContext (SemEval-2019 task 3): TSV ``id, turn1, turn2, turn3, label``; header optional; CRLF possible.

Each row becomes an ``Example`` whose text is the third turn and whose context is the first two turns.
"""

from __future__ import annotations

from pathlib import Path

from emosynth.errors import ConfigError
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy


def read_emocontext(path: str | Path) -> list[Example]:
    """EmoContext examples of one file (``id, turn1, turn2, turn3, label``): the third turn is the text, the
    first two its context."""
    path = Path(path)
    tax = get_taxonomy("emocontext")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # splitlines also drops CR of CRLF
    except OSError as exc:
        raise ConfigError(f"Cannot read EmoContext file {path}: {exc.strerror}") from exc
    examples = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if n == 1 and parts[0].strip().lower() == "id":
            continue
        if len(parts) != 5:
            raise ConfigError(f"{path}:{n}: expected id, turn1, turn2, turn3, label (5 tab-separated fields)")
        cid, t1, t2, t3, label = (p.strip() for p in parts)
        label = tax.check(label, f"{path}:{n}")
        context = f"{t1}\n{t2}"
        examples.append(Example(cid, t3, [label], "emocontext", context, source="emocontext", metadata={"line": n}))
    return examples
