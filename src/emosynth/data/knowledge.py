"""Knowledge files for TODKAT: commonsense inferences per utterance in the ATOMIC relation types
(``records.ATOMIC_RELATIONS``), written by ``emosynth knowledge`` (``synth.knowledge``) or exported from ATOMIC/COMET
in the same JSONL shape."""

from __future__ import annotations

from pathlib import Path

from emosynth.data.io import iter_jsonl
from emosynth.errors import ConfigError
from emosynth.records import ATOMIC_RELATIONS as RELATIONS
from emosynth.text import normalise


def read_knowledge(path: str | Path) -> dict[str, dict[str, str]]:
    """A knowledge file: JSONL of ``{"text": utterance, "relations": {relation: inference}}``, keyed by the text
    with case and punctuation folded; relations outside ``RELATIONS`` are ignored, and a line without inferences
    (a failed ask, retried further down by a rerun of ``emosynth knowledge``) never replaces one with them.

    An inference may also be a list, as COMET writes its beams (``{"xReact": ["happy", "none", ...]}``): the first
    one that says something is read; COMET's "none" (no inference) counts as none."""
    out = {}
    for line, obj in iter_jsonl(path):
        relations = obj.get("relations")  # iter_jsonl has named a line that is not an object
        if not isinstance(relations, dict) or not isinstance(obj.get("text"), str):
            raise ConfigError(f"{path}:{line}: expected {{'text': ..., 'relations': {{relation: inference}}}}")
        found = inferences(relations)
        if found or normalise(obj["text"]) not in out:
            out[normalise(obj["text"])] = found
    return out


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
