"""Versioned prompt templates (``<name>.v<k>.j2``), cue texts per label set (``cues/<taxonomy>.yaml``)
and scenario lists (``scenarios.yaml``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from emosynth.errors import ConfigError
from emosynth.taxonomy import Taxonomy, load_yaml

_ROOT = resources.files("emosynth").joinpath("synth/prompts")
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False
)


def render_messages(version: str, **context) -> tuple[dict[str, str], ...]:
    """Render template ``<version>.j2`` into chat messages; ``[system]`` / ``[user]`` lines start a message."""
    source = _ROOT.joinpath(f"{version}.j2").read_text(encoding="utf-8")
    text = _ENV.from_string(source).render(**context)
    messages: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.strip() in ("[system]", "[user]"):
            messages.append({"role": line.strip()[1:-1], "content": ""})
        elif messages:
            messages[-1]["content"] += line + "\n"
    return tuple({"role": m["role"], "content": m["content"].strip()} for m in messages)


def retry_note(reason: str, detail: str, version: str = "retry.v1") -> str | None:
    """The note appended to a retry's prompt after a rejection for ``reason`` (None: retry unchanged)."""
    with resources.as_file(_ROOT.joinpath(f"{version}.yaml")) as p:
        notes = load_yaml(p)
    template = notes.get(reason)
    return template.format(detail=detail.rstrip(".")) if template else None


@dataclass(frozen=True)
class Cues:
    """How each label sounds: one or several phrasings per label (``cues/<taxonomy>.yaml``, ``version`` 3 lists
    several so that one label's turns are not all written to one formula); ``version`` is the file's."""

    version: int | None = None
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.phrasings)

    def first(self, label: str) -> str:
        """The label's first phrasing ("" for none)."""
        return self.phrasings.get(label, ("",))[0]

    def pick(self, label: str, rng: random.Random) -> str | None:
        """One of the label's phrasings, drawn from ``rng`` when there are several (None for none)."""
        options = self.phrasings.get(label)
        if not options:
            return None
        return options[0] if len(options) == 1 else rng.choice(options)


def load_cues(taxonomy: Taxonomy, path: str | Path | None = None) -> Cues:
    """Per-label cues: a user's file, else the shipped file for the set, else cues in the taxonomy YAML. A label's
    value is one phrasing or a list of them."""
    if path is None:
        shipped = _ROOT.joinpath(f"cues/{taxonomy.name}.yaml")
        if not shipped.is_file():
            return Cues(None, {k: (v,) for k, v in taxonomy.cues.items()})
        with resources.as_file(shipped) as p:
            raw = load_yaml(p)
    else:
        raw = load_yaml(path)
    labels = raw.get("labels") if isinstance(raw, dict) else None
    if not isinstance(labels, dict) or not all(isinstance(v, str | list) and v for v in labels.values()):
        raise ConfigError(f"{path or shipped}: expected `labels:` mapping label -> cue text or a list of them")
    phrasings = {taxonomy.check(str(k)): tuple(map(str, v if isinstance(v, list) else [v])) for k, v in labels.items()}
    return Cues(raw.get("version"), phrasings)
