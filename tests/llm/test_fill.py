"""Template filling: only the JSON strings are sampled, with the real SmolLM2 model."""

import json

import pytest

from emosynth.llm.base import ChatRequest
from emosynth.llm.fill import acceptable, closing_quote, string_body

pytestmark = pytest.mark.slow

TEMPLATE = ('{"turns": [{"speaker": "Ana", "utterance": "', '"}, {"speaker": "Ben", "utterance": "', '"}]}')


def test_the_closing_quote_is_the_first_one_not_escaped():
    assert closing_quote(b"", b'Hi"') == 2
    assert closing_quote(b"say \\", b'"x" now') == 2  # the first quote is escaped by the byte before it
    assert closing_quote(b"a\\\\", b'"') == 0  # an escaped backslash does not escape the quote
    assert closing_quote(b"", b"no quote") == -1
    assert closing_quote("caf\u00e9 ".encode(), '\u00e9"'.encode()) == 2  # bytes, not characters


def test_a_string_body_must_be_valid_json():
    assert string_body(b'She said \\"hi\\"') == 'She said "hi"'
    assert string_body("Ol\u00e1".encode()) == "Ol\u00e1"
    assert string_body(b"bad \\q escape") is None
    assert string_body(b"\xff") is None


def test_a_hole_stands_only_when_new_non_empty_and_within_its_length():
    assert acceptable("Hi there", set()) and acceptable("Hi there", {"hello"}, max_chars=8)
    assert not acceptable(None, set())  # not closed, or not a valid string body
    assert not acceptable(" !", set()) and not acceptable("?!", set())  # no words
    assert not acceptable("Hi, THERE!", {"hi there"})  # repeats an earlier line
    assert not acceptable("Hi there!", set(), max_chars=8)  # the schema's maxLength


def test_only_the_holes_are_sampled_and_the_reply_is_the_template_filled(smollm):
    request = ChatRequest(
        ({"role": "user", "content": "Write two short lines of a chat between Ana and Ben about rain."},),
        max_tokens=80,
        seed=3,
        template=TEMPLATE,
    )
    completion = smollm.complete(request)
    turns = json.loads(completion.text)["turns"]  # valid JSON, always: the fixed parts are ours
    assert [t["speaker"] for t in turns] == ["Ana", "Ben"]
    assert completion.text.startswith(TEMPLATE[0]) and completion.text.endswith(TEMPLATE[2])
    assert completion.finish_reason in ("stop", "length") and completion.completion_tokens > 0
    assert completion.extra["forced_tokens"] > 0 and completion.extra["redraws"] >= 0
    if completion.finish_reason == "stop" and completion.extra["redraws"] < 6:  # both holes accepted as drawn
        assert all(t["utterance"].strip() for t in turns)
        assert turns[0]["utterance"].casefold() != turns[1]["utterance"].casefold()
    # the same request without a template still goes through the grammar path
    plain = smollm.complete(ChatRequest(request.messages, max_tokens=40, seed=3))
    assert plain.extra == {} and plain.completion_tokens > 0


def test_a_template_request_gets_its_own_cache_key_and_others_keep_theirs():
    base = ChatRequest(({"role": "user", "content": "x"},))
    assert {"template", "hole_max_chars"}.isdisjoint(json.loads(base.canonical()))
    filled = json.loads(ChatRequest(base.messages, template=("a", "b"), hole_max_chars=9).canonical())
    assert filled["template"] == ["a", "b"] and filled["hole_max_chars"] == 9
