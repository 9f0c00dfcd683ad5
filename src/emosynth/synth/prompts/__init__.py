"""Versioned prompt templates (``<name>.v<k>.j2``), cue texts per label set (``cues/<taxonomy>.yaml``)
and scenario lists (``scenarios.yaml``)."""

from __future__ import annotations

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


def load_cues(taxonomy: Taxonomy, path: str | Path | None = None) -> dict[str, str]:
    """Per-label cue lines: a user's file, else the shipped file for the set, else cues in the taxonomy YAML."""
    if path is None:
        shipped = _ROOT.joinpath(f"cues/{taxonomy.name}.yaml")
        if not shipped.is_file():
            return dict(taxonomy.cues)
        with resources.as_file(shipped) as p:
            raw = load_yaml(p)
    else:
        raw = load_yaml(path)
    labels = raw.get("labels") if isinstance(raw, dict) else None
    if not isinstance(labels, dict):
        raise ConfigError(f"{path or shipped}: expected `labels:` mapping label -> cue text")
    return {taxonomy.check(str(k)): str(v) for k, v in labels.items()}
