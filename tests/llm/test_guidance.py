"""JSON schemas enforced by llguidance token masks, with the real SmolLM2 model (the default schema engine)."""

import json

import jsonschema
import pytest

from emosynth.errors import BackendError, ConfigError
from emosynth.llm.base import ChatRequest
from emosynth.llm.guidance import closed
from emosynth.llm.llamacpp import LlamaCppBackend
from emosynth.llm.options import backend_options

SCHEMA = {
    "type": "object",
    "properties": {
        "mood": {"enum": ["happy", "sad", "angry"]},
        "reasons": {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 1, "maxItems": 2},
    },
    "required": ["mood", "reasons"],
    "additionalProperties": False,
}


def ask(seed: int, schema=SCHEMA) -> ChatRequest:
    content = "How does a cat feel in the rain? Answer in JSON with a mood and some reasons."
    return ChatRequest(
        ({"role": "user", "content": content},), temperature=1.0, max_tokens=60, seed=seed, json_schema=schema
    )


def test_replies_under_llguidance_are_valid_under_the_schema_and_compact(smollm):
    assert smollm.constraint == "llguidance"  # installed with the llm extra: the default
    for seed in range(4):  # a small model sampled hot
        reply = smollm.complete(ask(seed))
        jsonschema.validate(json.loads(reply.text), SCHEMA)
        assert "\n" not in reply.text and reply.finish_reason == "stop"
    assert smollm.guide is not None  # built once, on the first schema request


def test_the_grammar_engine_stays_selectable_and_gives_valid_replies():
    backend = LlamaCppBackend("smollm2-135m", n_ctx=1024, constraint="grammar")
    try:
        reply = backend.complete(ask(1))
        jsonschema.validate(json.loads(reply.text), SCHEMA)
        assert backend.guide is None
    finally:
        backend.close()


def test_a_schema_llguidance_cannot_compile_is_a_one_line_error(smollm):
    bad = {"type": "object", "properties": {"x": {"type": "string", "pattern": "(unclosed"}}, "required": ["x"]}
    with pytest.raises(BackendError, match="llguidance cannot compile the JSON schema") as info:
        smollm.complete(ask(0, bad))
    assert "\n" not in str(info.value)


def test_an_unknown_constraint_is_refused_before_any_model_loads():
    with pytest.raises(ConfigError, match="constraint"):
        backend_options("llamacpp", constraint="fastest")
    with pytest.raises(ConfigError, match="unknown constraint 'fastest'"):
        LlamaCppBackend("smollm2-135m", constraint="fastest")


def test_objects_take_no_keys_beyond_their_properties_unless_they_say_so(smollm):
    open_ = {"type": "object", "properties": {"mood": {"enum": ["happy", "sad"]}}, "required": ["mood"]}
    assert closed(open_)["additionalProperties"] is False and "additionalProperties" not in open_
    named = {"type": "object", "properties": {"properties": {"type": "object", "additionalProperties": True}}}
    assert closed(named)["properties"] == named["properties"]  # a property called "properties" is no schema level
    for seed in range(3):  # as llama.cpp's own converter: the reply holds the one key, not more until max_tokens
        reply = smollm.complete(ask(seed, open_))
        assert list(json.loads(reply.text)) == ["mood"]
