import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emosynth.synth.parse import REASONS, InvalidOutput, extract_json, parse_dialogue
from emosynth.synth.specs import DialogueSpec, TurnPlan
from emosynth.taxonomy import get_taxonomy
from emosynth.text import word_ngrams

MELD = get_taxonomy("meld")
PLAN = [TurnPlan("Anna", "anger"), TurnPlan("Ben", "joy"), TurnPlan("Anna", "fear")]


def planned_spec(target=None):
    return DialogueSpec(0, "d0", 3, ["Anna", "Ben"], "t", "s", "r", target=target, plan=list(PLAN))


def free_spec(target=None):
    return DialogueSpec(0, "d0", 3, ["Anna", "Ben"], "t", "s", "r", target=target)


def planned_reply(texts, plan=PLAN):
    return json.dumps(
        {"turns": [{"speaker": p.speaker, "emotion": p.emotion, "utterance": t} for p, t in zip(plan, texts)]}
    )


def reason(text, spec, examples=frozenset()):
    with pytest.raises(InvalidOutput) as err:
        parse_dialogue(text, spec, MELD, (2, 12), examples)
    return err.value.reason


def test_planned_reply_becomes_turns():
    turns = parse_dialogue(
        planned_reply(["You broke it!", "Haha, great news!", "What if he knows?"]),
        planned_spec("fear"),
        MELD,
        (2, 12),
    )
    assert [(t.speaker, t.emotion) for t in turns] == [("Anna", "anger"), ("Ben", "joy"), ("Anna", "fear")]
    assert turns[0].text == "You broke it!"


def test_llm_labels_are_numbered_symbols_mapped_back():
    reply = {
        "turns": [
            {"speaker": "Anna", "utterance": "Hi.", "label": 0},
            {"speaker": "ben", "utterance": "Ew, gross!", "label": "5"},
            {"speaker": "Anna", "utterance": "Really?!", "label": "surprise"},
        ]
    }
    turns = parse_dialogue("```json\n" + json.dumps(reply) + "\n```", free_spec("disgust"), MELD, (2, 12))
    assert [t.emotion for t in turns] == ["neutral", "disgust", "surprise"]
    assert turns[1].speaker == "Ben"


@pytest.mark.parametrize(
    ("text", "spec", "expected"),
    [
        ("I think the dialogue is nice", planned_spec(), "unparseable"),
        ('{"turns": "nope"}', planned_spec(), "schema"),
        ('{"turns": [{"speaker": "Anna"}]}', planned_spec(), "schema"),
        (planned_reply(["a b", "c d"]), planned_spec(), "turn_count"),
        (planned_reply(["Hey!", "Hey!!", "Go."]), planned_spec(), "repeated_utterance"),
        (planned_reply(["Hey!", "...", "Go."]), planned_spec(), "empty_utterance"),
        (
            planned_reply(
                ["x y", "y z", "z w"],
                [TurnPlan("Anna", "anger"), TurnPlan("Ben", "sadness"), TurnPlan("Anna", "fear")],
            ),
            planned_spec(),
            "plan_mismatch",
        ),
        (
            '{"turns": [{"speaker": "Anna", "utterance": "Hi.", "label": 9}, '
            '{"speaker": "Ben", "utterance": "Yo.", "label": 0}]}',
            free_spec(),
            "unknown_label",
        ),
        (
            '{"turns": [{"speaker": "Zed", "utterance": "Hi.", "label": 1}, '
            '{"speaker": "Ben", "utterance": "Yo.", "label": 0}]}',
            free_spec(),
            "unknown_speaker",
        ),
        (
            '{"turns": [{"speaker": "Anna", "utterance": "Hi.", "label": 1}, '
            '{"speaker": "Ben", "utterance": "Yo.", "label": 0}]}',
            free_spec("fear"),
            "missing_target",
        ),
        ('{"turns": [{"speaker": "Anna", "utterance": "Hi.", "label": 1}]}', free_spec(), "turn_count"),
        (
            '{"turns": [{"speaker": "Anna", "utterance": "Hi.", "label": "--3"}, '
            '{"speaker": "Ben", "utterance": "Yo.", "label": 0}]}',
            free_spec(),
            "unknown_label",
        ),
        (
            '{"turns": [{"speaker": "Anna", "utterance": "Hi.", "label": "\u00b2"}, '
            '{"speaker": "Ben", "utterance": "Yo.", "label": 0}]}',
            free_spec(),
            "unknown_label",
        ),
    ],
)
def test_each_problem_has_its_reason(text, spec, expected):
    assert reason(text, spec) == expected


def test_copying_a_few_shot_example_is_rejected():
    examples = word_ngrams("Oh my God, you guys are getting married")
    reply = planned_reply(["So you guys are getting married?", "Fine.", "Right."])
    assert reason(reply, planned_spec(), examples) == "copied_example"


def test_extract_json_finds_object_in_chatter():
    assert extract_json('Sure! Here it is: {"turns": []} Hope that helps.') == {"turns": []}


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=4)
                | st.dictionaries(st.sampled_from(["turns", "speaker", "utterance", "emotion", "label"]), c, max_size=4)
            ),
            max_leaves=20,
        ).map(json.dumps),
    )
)
def test_fuzzed_replies_never_crash_only_reject(text):
    for spec in (planned_spec("fear"), free_spec("joy")):
        try:
            turns = parse_dialogue(text, spec, MELD, (2, 12))
        except InvalidOutput as exc:
            assert exc.reason in REASONS
        else:
            assert all(t.emotion in MELD.labels for t in turns)
