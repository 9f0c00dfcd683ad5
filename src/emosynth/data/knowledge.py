"""Knowledge files for TODKAT: commonsense inferences per utterance in the ATOMIC relation types
(``records.ATOMIC_RELATIONS``), written by ``emosynth knowledge`` (``synth.knowledge``) or exported from ATOMIC/COMET
in the same JSONL shape."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from emosynth.data.io import iter_jsonl
from emosynth.errors import ConfigError
from emosynth.records import ATOMIC_RELATIONS as RELATIONS
from emosynth.text import normalise, tokens


class Knowledge(dict):
    """Inferences by utterance, keyed by ``knowledge_key`` (case and spacing folded, punctuation kept: "Yeah!" and
    "Yeah?" are asked about apart, as their punctuation is what tells their feeling). ``find`` falls back to the
    text with punctuation folded too, for a file written with other punctuation (an ATOMIC/COMET export, say)."""

    def __init__(self, rows: Iterable[tuple[str, dict[str, str]]] = ()):
        super().__init__()
        self.folded: dict[str, dict[str, str]] = {}
        for text, found in rows:
            for table, key in ((self, knowledge_key(text)), (self.folded, folded_key(text))):
                if key not in table or (found and not table[key]):  # the first line with inferences counts
                    table[key] = found

    def find(self, text: str) -> dict[str, str]:
        """The inferences of an utterance: those written for its wording, else for it with punctuation folded."""
        return self.get(knowledge_key(text)) or self.folded.get(folded_key(text), {})


def knowledge_key(text: str) -> str:
    """How a knowledge file knows an utterance: its words and punctuation marks, case-folded, one space apart
    (typographic apostrophes read as plain ones)."""
    return " ".join(tokens(plain(text)))


def folded_key(text: str) -> str:
    """An utterance with its punctuation folded too (``Knowledge.find``'s fallback)."""
    return normalise(plain(text))


def plain(text: str) -> str:
    """The text with typographic apostrophes as plain ones (MELD's transcripts mix them)."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def read_knowledge(path: str | Path) -> Knowledge:
    """A knowledge file: JSONL of ``{"text": utterance, "relations": {relation: inference}}`` (``Knowledge``);
    relations outside ``RELATIONS`` are ignored, and of the lines for one utterance the first with inferences
    counts (a line without them is a failed ask, retried further down by a rerun of ``emosynth knowledge``).

    An inference may also be a list, as COMET writes its beams (``{"xReact": ["happy", "none", ...]}``): the first
    one that says something is read; COMET's "none" (no inference) counts as none."""
    rows = []
    for line, obj in iter_jsonl(path):
        relations = obj.get("relations")  # iter_jsonl has named a line that is not an object
        if not isinstance(relations, dict) or not isinstance(obj.get("text"), str):
            raise ConfigError(f"{path}:{line}: expected {{'text': ..., 'relations': {{relation: inference}}}}")
        rows.append((obj["text"], inferences(relations)))
    return Knowledge(rows)


def inferences(relations) -> dict[str, str]:
    """The inferences of a line's ``relations`` that say something, by relation type (``RELATIONS`` only)."""
    if not isinstance(relations, dict):
        return {}
    return {k: text for k, v in relations.items() if k in RELATIONS and (text := inference(v))}


def inference(value) -> str | None:
    """The inference a relation's value holds: the text, or a list's first text; None for "none" or nothing."""
    for item in value if isinstance(value, list) else [value]:
        text = " ".join(str(item).split()) if isinstance(item, str | int | float) else ""
        if text and text.lower() != "none":
            return text
    return None
