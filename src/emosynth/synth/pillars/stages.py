"""The three LLM stages of Emo Pillars, each a request builder and a reply parser.

1. characters of a passage (free structure: JSON schema, a short one);
2. ``per_call`` utterances of one character expressing one emotion (known structure: template filling);
3. the contexts of some of a call's utterances, in one call (known structure: template filling).

A parser returns what it accepts or raises ``InvalidOutput`` with the reason; per-item problems of stage 2 (an
empty, repeated or over-long utterance) drop that item only and are counted by reason.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emosynth.llm.base import ChatRequest
from emosynth.records import Character, Passage
from emosynth.synth.parse import InvalidOutput, extract_json
from emosynth.synth.pillars.config import SAMPLING_FIELDS, SHAPES, PillarsConfig
from emosynth.synth.prompts import render_messages
from emosynth.taxonomy import names_label
from emosynth.text import normalise, word_ngrams, words

COPY_WORDS = 6  # an utterance sharing a run of this many words with its passage copies it
FIELD_CHARS = {"name": 60, "role": 80, "traits": 80, "situation": 240}


def _string(max_chars: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_chars}


def characters_schema(max_characters: int) -> dict[str, Any]:
    """Up to ``max_characters`` characters, four short strings each."""
    character = {
        "type": "object",
        "properties": {k: _string(n) for k, n in FIELD_CHARS.items()},
        "required": list(FIELD_CHARS),
        "additionalProperties": False,
    }
    items = {"type": "array", "items": character, "maxItems": max_characters}
    return {"type": "object", "properties": {"characters": items}, "required": ["characters"]}


def strings_template(key: str, k: int) -> tuple[str, ...]:
    """The fixed text of ``{"<key>": ["...", ...]}`` with ``k`` strings (or ``{"<key>": "..."}`` for k = 0)."""
    if k == 0:
        return (f'{{"{key}": "', '"}')
    return (f'{{"{key}": ["', *(['", "'] * (k - 1)), '"]}')


def strings_schema(key: str, k: int, max_chars: int) -> dict[str, Any]:
    """The JSON schema of the same reply as ``strings_template`` (for backends that cannot fill templates)."""
    value = {"type": "array", "items": _string(max_chars), "minItems": k, "maxItems": k} if k else _string(max_chars)
    return {"type": "object", "properties": {key: value}, "required": [key], "additionalProperties": False}


def _request(config: PillarsConfig, messages, seed: int, key: str, k: int, max_chars: int, index: int):
    template = strings_template(key, k) if config.decoding == "template" else None
    return ChatRequest(
        messages=messages,
        max_tokens=(max(k, 1) * max_chars) // 3 + 16,
        seed=seed,
        json_schema=strings_schema(key, k, max_chars),
        sample_index=index,
        template=template,
        hole_max_chars=max_chars if template else None,
        **config.model_dump(include=set(SAMPLING_FIELDS)),
    )


def characters_request(config: PillarsConfig, passage: Passage, seed: int, index: int) -> ChatRequest:
    """Stage 1: who acts or speaks in ``passage``."""
    messages = render_messages(
        config.prompt_versions["characters"], passage=passage.text, max_characters=config.max_characters
    )
    return ChatRequest(
        messages=messages,
        max_tokens=config.max_characters * sum(FIELD_CHARS.values()) // 4 + 32,
        seed=seed,
        json_schema=characters_schema(config.max_characters),
        sample_index=index,
        temperature=0.2,  # a reading, not a creative task
        top_p=config.top_p,
    )


class _CharacterOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)
    role: str = ""
    traits: str = ""
    situation: str = ""


class _CharactersOut(BaseModel):
    characters: list[_CharacterOut]


def parse_characters(text: str, passage: Passage, max_characters: int) -> list[Character]:
    """The characters of a reply (duplicate names merged, at most ``max_characters``); an empty list is valid."""
    try:
        out = _CharactersOut.model_validate(extract_json(text))
    except ValidationError as exc:
        raise InvalidOutput("schema", str(exc.errors()[0].get("msg", ""))[:120]) from None
    characters, seen = [], set()
    for c in out.characters:
        key = normalise(c.name)
        if not key or key in seen:
            continue
        seen.add(key)
        fields = {k: " ".join(getattr(c, k).split())[:n] for k, n in FIELD_CHARS.items()}
        characters.append(Character(f"{passage.id}#{len(characters)}", passage.id, **fields))
    return characters[:max_characters]


def _scene(passage: Passage, character: Character) -> dict[str, str]:
    """The prompt fields every stage after the first shares: the passage and the character."""
    return {"passage": passage.text, "character": character.description(), "name": character.name}


def utterances_request(
    config: PillarsConfig, passage: Passage, character: Character, emotion: str, cue: str, seed: int, index: int
) -> ChatRequest:
    """Stage 2: ``per_call`` utterances of ``character`` expressing ``emotion``."""
    messages = render_messages(
        config.prompt_versions["utterances"],
        **_scene(passage, character),
        emotion=emotion,
        cue=cue,
        k=config.per_call,
        shapes=SHAPES,
    )
    return _request(config, messages, seed, "utterances", config.per_call, config.utterance_chars, index)


def copies(utterance: str, passage: str, n: int = COPY_WORDS) -> bool:
    """Whether ``utterance`` repeats a run of ``n`` words of ``passage`` (a sentence lifted from the story)."""
    return bool(word_ngrams(utterance, n) & word_ngrams(passage, n))


def parse_utterances(text: str, k: int, max_chars: int, passage: str = "") -> tuple[list[str], list[str]]:
    """The acceptable utterances of a reply and the reasons the others were dropped (empty, repeated, too long,
    or ``copies_passage``: lifted from the story ``passage``).

    Raises ``InvalidOutput`` when the reply is not ``{"utterances": [...]}`` or keeps no utterance.
    """
    try:
        value = extract_json(text)
        items = value["utterances"] if isinstance(value, dict) else None
    except KeyError:
        items = None
    if not isinstance(items, list):
        raise InvalidOutput("schema", 'expected {"utterances": [...]}')
    kept, dropped, seen = [], [], set()
    for item in items[:k]:
        utterance = " ".join(item.split()) if isinstance(item, str) else ""
        key = normalise(utterance)
        if not key:
            dropped.append("empty_utterance")
        elif key in seen:
            dropped.append("repeated_utterance")
        elif len(utterance) > max_chars:
            dropped.append("too_long")
        elif passage and copies(utterance, passage):
            dropped.append("copies_passage")
        else:
            seen.add(key)
            kept.append(utterance)
    if not kept:
        raise InvalidOutput(dropped[0] if dropped else "empty_utterance", f"no usable utterance in {text[:60]!r}")
    return kept, dropped


def context_request(
    config: PillarsConfig, passage: Passage, character: Character, utterances: list[str], seed: int, index: int
) -> ChatRequest:
    """Stage 3: in one call, for each of ``utterances`` the situation that makes it understandable."""
    messages = render_messages(config.prompt_versions["context"], **_scene(passage, character), utterances=utterances)
    return _request(config, messages, seed, "contexts", len(utterances), config.context_chars, index)


def check_context(context: Any, utterance: str, max_chars: int, target: str | None = None) -> str:
    """``context`` tidied; one that is empty, too long, repeats the utterance or names the ``target`` emotion
    (``resources/emotion_words.yaml``: the context should make the feeling understandable, not state it) is
    ``InvalidOutput``."""
    if not isinstance(context, str) or not normalise(context):
        raise InvalidOutput("empty_context", f"no context: {str(context)[:60]!r}")
    context = " ".join(context.split())
    if len(context) > max_chars:
        raise InvalidOutput("too_long", f"context of {len(context)} characters")
    if normalise(utterance) in normalise(context):
        raise InvalidOutput("context_quotes_utterance", json.dumps(context[:60]))
    if target and names_label(set(words(context)), target):
        raise InvalidOutput("context_names_emotion", json.dumps(context[:60]))
    return context


def parse_contexts(
    text: str, utterances: list[str], max_chars: int, target: str | None = None
) -> tuple[list[str | None], list[str]]:
    """The context of each utterance (None where it fails ``check_context``) and the reasons of those that failed.

    Raises ``InvalidOutput`` when the reply is not ``{"contexts": [...]}`` or keeps no context."""
    try:
        value = extract_json(text)
        items = value.get("contexts") if isinstance(value, dict) else None
    except AttributeError:
        items = None
    if not isinstance(items, list):
        raise InvalidOutput("schema", 'expected {"contexts": [...]}')
    items = items + [""] * (len(utterances) - len(items))
    contexts, dropped = [], []
    for context, utterance in zip(items, utterances):
        try:
            contexts.append(check_context(context, utterance, max_chars, target))
        except InvalidOutput as exc:
            contexts.append(None)
            dropped.append(exc.reason)
    if not any(contexts):
        raise InvalidOutput(dropped[0], f"no usable context in {text[:60]!r}")
    return contexts, dropped
