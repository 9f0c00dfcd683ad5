"""Narrative corpora that ground story-based generation (Emo Pillars): readers and passage splitting.

Three layouts, told apart by the path given:
- the FairytaleQA stories: a folder holding ``section-stories/{train,val,test}/<name>-story.csv`` (columns
  ``section,text``) and optionally ``story_meta.csv`` (its ``origin`` is kept);
- a folder of ``.txt`` files, one story per file (id: the file name without ``.txt``);
- a JSONL file of ``{"id": ..., "text": ...}`` objects.

A story is a list of paragraphs (lines of a FairytaleQA section; blocks separated by blank lines elsewhere).
``split_story`` packs whole paragraphs into passages of at most ``max_words`` words; a longer paragraph is cut at
sentence ends, a longer sentence at word ``max_words``. Passage ids are ``<story id>/<k>``: the same corpus and
``max_words`` give the same passages, so a rerun resumes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosynth.data.io import csv_rows, iter_jsonl
from emosynth.errors import ConfigError
from emosynth.records import Passage

SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")


@dataclass
class Story:
    """A story as its paragraphs, in order."""

    id: str
    paragraphs: list[str]
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)


def blocks(text: str) -> list[str]:
    """Paragraphs of plain text: blocks separated by blank lines, inner whitespace collapsed."""
    return [" ".join(b.split()) for b in re.split(r"\n\s*\n", text) if b.strip()]


def read_fairytaleqa(root: str | Path) -> list[Story]:
    """The FairytaleQA stories under ``root`` (train, val, test), each section's lines as paragraphs."""
    root = Path(root)
    origins = {}
    if (root / "story_meta.csv").exists():
        rows = csv_rows(root / "story_meta.csv", "story_meta")
        origins = {row["filename"].casefold(): row["origin"] for _, row in rows}
    stories = []
    for path in sorted((root / "section-stories").glob("*/*-story.csv")):
        name = path.name.removesuffix("-story.csv")
        paragraphs = [
            " ".join(line.split())
            for _, row in csv_rows(path, "FairytaleQA story", {"section", "text"})
            for line in row["text"].splitlines()
            if line.strip()
        ]
        origin = origins.get(name.casefold())  # story_meta.csv spells some file names in lower case
        meta = {"split": path.parent.name} | ({"origin": origin} if origin else {})
        stories.append(Story(name, paragraphs, "fairytaleqa", meta))
    return stories


def read_txt_folder(root: str | Path) -> list[Story]:
    """One story per ``.txt`` file under ``root`` (recursively), id from its path relative to ``root``."""
    root = Path(root)
    stories = []
    for path in sorted(root.rglob("*.txt")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read story {path}: {exc}") from exc
        stories.append(Story(path.relative_to(root).with_suffix("").as_posix(), blocks(text), "txt"))
    return stories


def read_story_jsonl(path: str | Path) -> list[Story]:
    """Stories from JSONL lines ``{"id": ..., "text": ...}`` (other keys kept as metadata)."""
    stories = []
    for line, obj in iter_jsonl(path):
        if not isinstance(obj.get("id"), str | int) or not isinstance(obj.get("text"), str):
            raise ConfigError(f'{path}:{line}: a story needs "id" (string) and "text" (string)')
        meta = {k: v for k, v in obj.items() if k not in ("id", "text")}
        stories.append(Story(str(obj["id"]), blocks(obj["text"]), "jsonl", meta))
    return stories


def read_stories(path: str | Path) -> list[Story]:
    """The stories at ``path`` in whichever layout it has; duplicate ids and an empty corpus are errors."""
    path = Path(path)
    if path.is_file():
        stories = read_story_jsonl(path)
    elif (path / "section-stories").is_dir():
        stories = read_fairytaleqa(path)
    elif path.is_dir():
        stories = read_txt_folder(path)
    else:
        raise ConfigError(f"No stories at {path}: give a FairytaleQA folder, a folder of .txt files or a JSONL file")
    if not any(s.paragraphs for s in stories):
        raise ConfigError(f"No story text found in {path} (expected section-stories/, *.txt files or JSONL lines)")
    seen: set[str] = set()
    for story in stories:
        if story.id in seen:
            raise ConfigError(f"{path}: two stories have the id {story.id!r}; story ids must be unique")
        seen.add(story.id)
    return stories


def pieces(paragraph: str, max_words: int) -> list[str]:
    """A paragraph cut into pieces of at most ``max_words`` words, at sentence ends where it can be."""
    if len(paragraph.split()) <= max_words:
        return [paragraph]
    out: list[str] = []
    for sentence in SENTENCE_END.split(paragraph):
        words = sentence.split()
        chunks = [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]
        for chunk in chunks:
            if out and len(out[-1].split()) + len(chunk.split()) <= max_words:
                out[-1] += " " + chunk
            else:
                out.append(chunk)
    return out


def split_story(story: Story, max_words: int) -> list[Passage]:
    """The story's passages: consecutive paragraphs packed up to ``max_words`` words each."""
    passages: list[list[str]] = []
    size = 0
    for paragraph in (p for par in story.paragraphs for p in pieces(par, max_words)):
        n = len(paragraph.split())
        if passages and size + n <= max_words:
            passages[-1].append(paragraph)
            size += n
        else:
            passages.append([paragraph])
            size = n
    return [
        Passage(f"{story.id}/{k}", story.id, k, "\n".join(parts), story.source, dict(story.metadata))
        for k, parts in enumerate(passages)
    ]


def load_passages(path: str | Path, max_words: int) -> list[Passage]:
    """Every passage of the corpus at ``path``, stories in id order."""
    if max_words < 20:
        raise ConfigError(f"passage size {max_words} words is too small to hold a scene; use at least 20")
    return [p for story in sorted(read_stories(path), key=lambda s: s.id) for p in split_story(story, max_words)]
