"""Continuous batching of template fills, with the real SmolLM2 model."""

import json
from dataclasses import replace

import pytest

from emosynth.errors import BackendError
from emosynth.llm.base import ChatRequest
from emosynth.llm.llamacpp import LlamaCppBackend

pytestmark = pytest.mark.slow

TEMPLATE = (
    '{"turns": [{"speaker": "Ana", "utterance": "',
    '"}, {"speaker": "Ben", "utterance": "',
    '"}, {"speaker": "Ana", "utterance": "',
    '"}]}',
)


def requests(n: int, max_tokens: int = 90) -> list[ChatRequest]:
    return [
        ChatRequest(
            (
                {"role": "system", "content": "You write short dialogues."},
                {"role": "user", "content": f"Three lines of a chat between Ana and Ben about topic number {k}."},
            ),
            max_tokens=max_tokens,
            seed=k,
            template=TEMPLATE,
            hole_max_chars=120,
        )
        for k in range(n)
    ]


@pytest.fixture(scope="module")
def three_slots():
    backend = LlamaCppBackend("smollm2-135m", n_ctx=2048, concurrency=3)
    yield backend
    backend.close()


def test_one_slot_decodes_each_request_as_alone_whatever_comes_with_it():
    batch = requests(4)
    one_slot = LlamaCppBackend("smollm2-135m", n_ctx=2048, concurrency=1)
    try:
        together = dict(one_slot.complete_many(batch))
        reversed_order = dict(one_slot.complete_many(batch[::-1]))
        alone = one_slot.complete(batch[2])
    finally:
        one_slot.close()
    assert [together[i].text for i in range(4)] == [reversed_order[3 - i].text for i in range(4)]
    assert alone.text == together[2].text  # a request alone: the same tokens


def test_parallel_sequences_each_answer_their_own_request_once(three_slots):
    batch = requests(5)
    answers = list(three_slots.complete_many(batch))
    assert sorted(i for i, _ in answers) == list(range(5))  # every request once, in completion order
    for _, completion in answers:
        turns = json.loads(completion.text)["turns"]
        assert [t["speaker"] for t in turns] == ["Ana", "Ben", "Ana"]
        assert completion.completion_tokens > 0 and completion.extra["forced_tokens"] > 0
        if completion.finish_reason == "stop" and completion.extra["redraws"] == 0:
            assert all(t["utterance"].strip() for t in turns)
    # a run repeats itself under the same setting
    assert [c.text for _, c in sorted(answers)] == [c.text for _, c in sorted(three_slots.complete_many(batch))]


def test_schema_requests_in_a_parallel_call_are_answered_too(three_slots):
    plain = ChatRequest(({"role": "user", "content": "Say hi."},), max_tokens=8, seed=1)
    answers = dict(three_slots.complete_many([*requests(2), plain]))
    assert set(answers) == {0, 1, 2} and answers[2].extra == {} and answers[0].extra["forced_tokens"] > 0


def test_a_request_beyond_the_context_window_is_refused_before_any_decoding(three_slots):
    too_long = requests(1, max_tokens=5000)
    with pytest.raises(BackendError, match=r"exceed the context window \(n_ctx=2048\)"):
        list(three_slots.complete_many([*requests(2), *too_long]))


class Shortest:
    """Stands in for a judge (not the filling under test): prefers the shortest candidate, reads "joy" in
    candidates with an exclamation mark, and keeps what it was shown."""

    identity = "shortest"
    rules = None

    def __init__(self):
        self.shown, self.chosen = [], []

    def score(self, label, candidates, history):
        self.shown.append((label, list(candidates), list(history)))
        return [(-float(len(c)), label == "joy" and "!" in c) for c in candidates]

    def kept(self, label, text):
        self.chosen.append((label, text))


def test_best_of_n_keeps_the_chosen_candidate_of_every_hole_and_the_reply_stays_whole(three_slots):
    chooser = Shortest()
    three_slots.set_chooser(chooser)
    labels = ("joy", "anger", "joy")
    batch = [replace(r, hole_candidates=3, hole_labels=labels, chooser="shortest") for r in requests(2)]
    answers = dict(three_slots.complete_many(batch))
    assert len(chooser.shown) == 6  # 3 holes x 2 requests, 3 candidates each (no hole failed 3 times here)
    rewound = 0
    for completion in answers.values():
        turns = json.loads(completion.text)["turns"]
        assert [t["speaker"] for t in turns] == ["Ana", "Ben", "Ana"]
        assert completion.extra["hole_candidates"] == [3, 3, 3]
        kept = []  # the two requests' holes interleave: a hole is known by what was kept before it
        for turn, score, label in zip(turns, completion.extra["hole_scores"], labels):
            candidates = next(c for lab, c, h in chooser.shown if h == kept and turn["utterance"] in c and lab == label)
            assert turn["utterance"] == min(candidates, key=len) and score == -len(turn["utterance"])
            rewound += candidates.index(turn["utterance"]) != len(candidates) - 1
            kept.append(turn["utterance"])
        assert completion.completion_tokens > 0 and completion.extra["forced_tokens"] > 0
    assert rewound >= 1  # seeded: some holes keep an earlier candidate, so the rewind path ran
    every_kept = sorted(
        (label, t["utterance"]) for a in answers.values() for t, label in zip(json.loads(a.text)["turns"], labels)
    )
    assert sorted(chooser.chosen) == every_kept  # the chooser hears what was kept, once per hole
    again = dict(three_slots.complete_many(batch))
    assert [again[i].text for i in range(2)] == [answers[i].text for i in range(2)]
    assert batch[0].canonical() != requests(1)[0].canonical()  # a chosen answer is cached apart


class FirstRoundWeak(Shortest):
    """Reads the first round of the first hole as far below any bar (-2000), every other candidate as -len."""

    def score(self, label, candidates, history):
        scores = super().score(label, candidates, history)
        return [(-2000.0, joy) for _, joy in scores] if len(self.shown) == 1 else scores


def test_a_hole_below_the_minimum_score_gets_another_round_and_keeps_the_best_of_all(three_slots):
    chooser = FirstRoundWeak()
    three_slots.set_chooser(chooser)
    labels = ("joy", "anger", "joy")
    one = replace(requests(1)[0], hole_candidates=2, hole_labels=labels, chooser="shortest")
    two = replace(one, hole_min_score=-1000.0, hole_rounds=2)
    assert one.canonical() != two.canonical()  # a different bar is cached apart
    completion = three_slots.complete(two)
    shown = [c for _, c, _ in chooser.shown]  # a hole's candidates after each round: 2, then all 4 if needed
    # the first hole's first round stayed below the bar: a second round, whose scoring sees the first round's 2
    # candidates beside its own 2, and the best of all 4 is kept (which of the rounds wrote it depends on the text
    # the CPU's build of llama.cpp samples); the other holes were above the bar at once
    assert completion.extra["hole_candidates"] == [4, 2, 2] and [len(c) for c in shown] == [2, 4, 2, 2]
    assert shown[1][:2] == shown[0]
    turns = json.loads(completion.text)["turns"]
    assert turns[0]["utterance"] == min(shown[1], key=len) and completion.extra["hole_scores"][0] > -1000
    for turn, candidates in zip(turns[1:], shown[2:]):
        assert turn["utterance"] == min(candidates, key=len)


def test_a_request_naming_an_unknown_chooser_fails_before_decoding(three_slots):
    bad = replace(requests(1)[0], hole_candidates=2, hole_labels=("joy",) * 3, chooser="nobody")
    with pytest.raises(BackendError, match="no chooser 'nobody'"):
        three_slots.complete(bad)


def test_requests_that_allow_repeated_holes_are_cached_apart_and_old_keys_stay():
    plain = requests(1)[0]
    assert "hole_repeats" not in plain.canonical() and "hole_candidates" not in plain.canonical()
    assert "chooser_rules" not in plain.canonical()  # an opener cap is named only where a run set one
    assert '"chooser_rules":"opener_cap=1.5"' in replace(plain, chooser_rules="opener_cap=1.5").canonical()
    assert '"hole_repeats":true' in replace(plain, hole_repeats=True).canonical()
