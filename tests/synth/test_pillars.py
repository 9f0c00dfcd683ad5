"""Emo Pillars generation: the stages' parsers, the run's bookkeeping (scripted model) and a real run (SmolLM2)."""

import json

import pytest

from emosynth.data.io import iter_jsonl, sidecar
from emosynth.errors import ConfigError
from emosynth.llm.base import Completion, LLMBackend
from emosynth.records import Passage
from emosynth.synth.parse import InvalidOutput
from emosynth.synth.pillars import stages
from emosynth.synth.pillars.config import PillarsConfig
from emosynth.synth.pillars.run import PillarsSynthesizer
from emosynth.taxonomy import get_taxonomy

PASSAGE = Passage("tale/0", "tale", 0, "The fox met the hen by the well. The hen ran home.", "jsonl")
STORIES = [
    {"id": "fox", "text": "The fox met the hen by the well. 'Stop!' cried the hen, and she ran home to her chicks."},
    {"id": "rain", "text": "It rained for three days and the river rose over the fields."},
    {"id": "king", "text": "The old king gave his ring to the youngest son, and the two elder brothers were angry."},
]


def test_a_characters_reply_is_parsed_with_duplicates_merged_and_none_is_fine():
    reply = {"characters": [{"name": "The Fox", "role": "trickster", "traits": "sly", "situation": "meets the hen"}]}
    reply["characters"] += [{"name": "the fox!", "role": "", "traits": "", "situation": ""}, {"name": "Hen"}]
    got = stages.parse_characters(json.dumps(reply), PASSAGE, max_characters=4)
    assert [(c.id, c.name) for c in got] == [("tale/0#0", "The Fox"), ("tale/0#1", "Hen")]
    assert got[0].description() == "The Fox, trickster; sly. meets the hen"
    assert stages.parse_characters('{"characters": []}', PASSAGE, 4) == []
    with pytest.raises(InvalidOutput) as exc:
        stages.parse_characters('{"people": 3}', PASSAGE, 4)
    assert exc.value.reason == "schema"


def test_utterances_keep_the_good_items_and_count_the_others():
    reply = json.dumps({"utterances": ["I can't believe it!", "", "i can't believe it", "x" * 300, "Oh, thank you."]})
    kept, dropped = stages.parse_utterances(reply, k=5, max_chars=200)
    assert kept == ["I can't believe it!", "Oh, thank you."]
    assert dropped == ["empty_utterance", "repeated_utterance", "too_long"]
    with pytest.raises(InvalidOutput) as exc:
        stages.parse_utterances('{"utterances": ["", " "]}', k=2, max_chars=200)
    assert exc.value.reason == "empty_utterance"


def test_each_context_must_say_something_other_than_its_utterance_and_not_name_the_feeling():
    utterances = ["Where are they?", "Where are they?", "Where are they?", "Where are they?", "Come back!"]
    reply = {
        "contexts": [
            "The hen lost  her chicks.",
            "",
            "She says: where are they? loudly",
            "a" * 500,
            "The hen is terribly afraid: the fox is near.",
        ]
    }
    contexts, dropped = stages.parse_contexts(json.dumps(reply), utterances, 400, target="fear")
    assert contexts == ["The hen lost her chicks.", None, None, None, None]
    assert dropped == ["empty_context", "context_quotes_utterance", "too_long", "context_names_emotion"]
    # another target: the same words are a fine context; a reply short of items drops the missing ones
    contexts, dropped = stages.parse_contexts(json.dumps({"contexts": reply["contexts"][4:]}), utterances[3:], 400)
    assert contexts == ["The hen is terribly afraid: the fox is near.", None] and dropped == ["empty_context"]
    for text, reason in [('{"context": "x"}', "schema"), ('{"contexts": [""]}', "empty_context")]:
        with pytest.raises(InvalidOutput) as exc:
            stages.parse_contexts(text, ["Where are they?"], 400)
        assert exc.value.reason == reason


def test_an_utterance_lifted_from_the_passage_is_dropped():
    passage = "The old king gave his ring to the youngest son, and the two elder brothers were angry."
    reply = json.dumps({"utterances": ["He gave his ring to the youngest son!", "Father, how could you do this?"]})
    kept, dropped = stages.parse_utterances(reply, k=2, max_chars=200, passage=passage)
    assert kept == ["Father, how could you do this?"] and dropped == ["copies_passage"]


def test_templates_and_schemas_describe_the_same_reply():
    template = stages.strings_template("utterances", 3)
    filled = template[0] + "a" + template[1] + "b" + template[2] + "c" + template[3]
    assert json.loads(filled) == {"utterances": ["a", "b", "c"]}
    assert json.loads("x".join(stages.strings_template("context", 0))) == {"context": "x"}
    assert stages.strings_schema("utterances", 3, 50)["properties"]["utterances"]["maxItems"] == 3


def test_balanced_targets_give_every_label_once_per_round():
    synth = PillarsSynthesizer(PillarsConfig.create(n=60), ScriptedStoryteller(), [PASSAGE])
    labels = get_taxonomy("goemotions").labels
    first, second = [synth.target(k) for k in range(28)], [synth.target(k) for k in range(28, 56)]
    assert sorted(first) == sorted(second) == sorted(labels) and first != second
    weighted = PillarsSynthesizer(PillarsConfig.create(n=60, targets={"Joy": 1, "anger": 0}), ScriptedStoryteller(), [])
    assert {weighted.target(k) for k in range(40)} == {"joy"}
    with pytest.raises(ConfigError, match="targets: Unknown label 'glee'"):
        PillarsConfig.create(targets={"glee": 1})


class ScriptedStoryteller(LLMBackend):
    """Stands in for the LLM (not the pipeline under test): characters for passages that have a name in them, the
    same two utterances for every call (the second call of each passage repeats one), and a context."""

    name, model_id = "scripted", "storyteller"

    def __init__(self):
        self.calls = 0

    def complete(self, request):
        self.calls += 1
        prompt = request.messages[-1]["content"]
        if "List up to" in prompt:
            who = [n for n in ("fox", "hen", "king") if n in prompt.split('"""')[1]]
            reply = {"characters": [{"name": n, "role": "r", "traits": "t", "situation": "s"} for n in who]}
        elif "different things" in prompt:
            n = self.calls
            reply = {
                "utterances": [
                    f"I never thought I would see {n} geese today!",
                    f"i never thought I would see {n} GEESE today",
                    f"Well, that makes {n} of us.",
                ]
            }
        else:
            asked = prompt.count(" says: ")
            reply = {"contexts": [f"Something happened, number {self.calls}.{i}" for i in range(asked)]}
        return Completion(json.dumps(reply), "stop", 10, 20, self.model_id)


def test_a_run_counts_every_stage_and_a_rerun_makes_no_call(tmp_path):
    from emosynth.data.stories import load_passages

    corpus = tmp_path / "stories.jsonl"
    corpus.write_text("".join(json.dumps(s) + "\n" for s in STORIES), encoding="utf-8")
    passages = load_passages(corpus, 300)
    config = PillarsConfig.create(n=4, per_call=3, contexts_per_call=1, calls_per_passage=1)  # 2 utterance calls
    llm = ScriptedStoryteller()
    out = tmp_path / "run" / "pillars.jsonl"
    summary = PillarsSynthesizer(config, llm, passages, "stories.jsonl").run(out)
    d = summary.to_dict()
    assert d["passages_without_characters"] == 1 and d["passages_read"] == 3  # the rain has nobody in it
    assert d["stages"]["characters"]["calls"] == 3 and d["stages"]["utterances"]["calls"] == 2
    assert d["dropped_utterances"] == {"repeated_utterance": 2}  # one per call, the reply kept
    assert d["contextless_examples"] == 4 and d["contextual_examples"] == 2
    assert d["llm_calls"] == 3 + 2 + 2 and d["new_contextless_examples"] == 4 and d["new_contextual_examples"] == 2
    assert d["calls_per_accepted_example"] == round(7 / 6, 3)  # both kinds of example count, as in the paper
    contextless = [obj for _, obj in iter_jsonl(out.with_name("pillars_contextless.jsonl"))]
    contextual = [obj for _, obj in iter_jsonl(out.with_name("pillars_contextual.jsonl"))]
    assert len({e["id"] for e in contextless}) == 4 and {e["id"] for e in contextual} <= {e["id"] for e in contextless}
    assert all(e["context"] and e["metadata"]["character_description"] for e in contextual)
    assert {e["metadata"]["story"] for e in contextless} == {"fox", "king"}
    calls = llm.calls
    again = PillarsSynthesizer(config, llm, passages, "stories.jsonl").run(out).to_dict()
    assert llm.calls == calls and again["llm_calls"] == 0 and again["contextless_examples"] == 4
    assert again["new_contextless_examples"] == 0  # its examples came from calls of the run before
    # asked for more without calls: the examples are rebuilt from what the stage files hold, nothing is generated
    more = config.model_copy(update={"n": 12})
    stopped = PillarsSynthesizer(more, llm, passages, "stories.jsonl").run(out, calls=False).to_dict()
    assert llm.calls == calls and stopped["contextless_examples"] == 4 and stopped["passages_read"] == 3
    assert json.loads(sidecar(out, "config.json").read_text())["stories"] == "stories.jsonl"
    with pytest.raises(ConfigError, match="was generated with per_call=3, not 2"):
        PillarsSynthesizer(config.model_copy(update={"per_call": 2}), llm, passages, "stories.jsonl").run(out)


def test_calls_on_one_passage_take_its_characters_in_turn(tmp_path):
    passage = Passage("tale/0", "tale", 0, "The fox met the hen.")
    config = PillarsConfig.create(n=6, per_call=3, calls_per_passage=2)  # 2 calls, both on the one passage
    llm = ScriptedStoryteller()
    out = tmp_path / "pillars.jsonl"
    d = PillarsSynthesizer(config, llm, [passage]).run(out).to_dict()
    assert d["stages"]["characters"]["calls"] == 1 and d["stages"]["utterances"]["calls"] == 2
    calls = [obj for _, obj in iter_jsonl(sidecar(out, "utterances.jsonl"))]
    assert sorted(c["character"]["name"] for c in calls) == ["fox", "hen"]
    assert len({c["target"] for c in calls}) == 2


class Unreadable(ScriptedStoryteller):
    """Stands in for the LLM: answers the utterance stage with text that is not JSON."""

    def complete(self, request):
        completion = super().complete(request)
        if "different things" in request.messages[-1]["content"]:
            completion.text = "Sure! Here are some lines"
        return completion


def test_a_call_that_fails_every_attempt_is_recorded_with_its_reason(tmp_path):
    config = PillarsConfig.create(n=3, max_attempts=2)
    out = tmp_path / "pillars.jsonl"
    passage = Passage("tale/0", "tale", 0, "The fox.")
    d = PillarsSynthesizer(config, Unreadable(), [passage]).run(out).to_dict()
    assert d["stages"]["utterances"]["rejected_attempts"] == {"unparseable": 2}
    assert d["stages"]["utterances"]["failed"] == {"unparseable": 1} and d["contextless_examples"] == 0
    [rejection] = [obj for _, obj in iter_jsonl(sidecar(out, "rejected.jsonl"))]
    assert rejection["id"] == "utterances:pillars-s0-000000" and len(rejection["attempts"]) == 2


@pytest.mark.slow
def test_a_real_model_writes_examples_from_stories(smollm, tmp_path):
    corpus = tmp_path / "stories.jsonl"
    corpus.write_text("".join(json.dumps(s) + "\n" for s in STORIES), encoding="utf-8")
    from emosynth.data.stories import load_passages

    config = PillarsConfig.create(n=3, per_call=3, max_attempts=2)
    out = tmp_path / "pillars.jsonl"
    summary = PillarsSynthesizer(config, smollm, load_passages(corpus, 300), "stories.jsonl").run(out).to_dict()
    assert summary["stages"]["characters"]["calls"] == 3 and summary["stages"]["characters"]["completion_tokens"] > 0
    # seeded: this model names characters and writes utterances for this corpus; the loop below is not vacuous
    assert summary["contextless_examples"] >= 1 and summary["contextual_examples"] <= summary["contextless_examples"]
    assert summary["stages"]["utterances"]["forced_tokens"] > 0  # the template was filled, not sampled
    for _, obj in iter_jsonl(out.with_name("pillars_contextless.jsonl")):
        assert obj["text"].strip() and obj["labels"] == [obj["metadata"]["target"]] and obj["taxonomy"] == "goemotions"


def ex(uid: str, text: str, target: str, context: str | None = None):
    from emosynth.records import Example

    return Example(uid, text, [target], "goemotions", context, metadata={"target": target})


def test_filters_drop_by_reason_in_order():
    from emosynth.synth.pillars.select import apply_filters

    examples = [
        ex("a", "Oh!", "surprise"),
        ex("b", "I will never forgive you for what you did to my little brother today.", "anger"),
        ex("c", "I am so angry with you right now.", "anger"),  # names its target
        ex("d", "Je ne sais pas pourquoi tu es parti sans moi.", "sadness"),
        ex("e", "I will never forgive you for what you did to my little brother today!", "anger"),
        ex("f", "I will never forgive you for what you did to my little brother today, never.", "anger"),
        ex("g", "What a lovely surprise to find you waiting at the old gate.", "joy"),
    ]
    kept, dropped = apply_filters(examples, min_words=2, max_words=30)
    assert [e.id for e in kept] == ["b", "g"]
    assert dropped == {"too_short": 1, "leakage": 1, "not_english": 1, "duplicate": 1, "near_duplicate": 1}


class FixedRater:
    """Stands in for a classifier (not the selection under test): fixed scores on the 7 Ekman-like MELD labels."""

    name, identity, reads_context = "classifier", "fixed", True
    taxonomy = get_taxonomy("meld")
    thresholds = None

    def rate(self, examples):
        # neutral joy surprise anger sadness disgust fear
        return [
            [0.1, 0.9, 0.4, 0.0, 0.0, 0.0, 0.0] if "glad" in e.text else [0.8, 0.0, 0.0, 0.2, 0.0, 0.0, 0.0]
            for e in examples
        ]


def test_soft_labels_keep_scores_map_labels_and_drop_unconfirmed_targets():
    from emosynth.synth.pillars.select import soft_labels

    goemotions = get_taxonomy("goemotions")
    examples = [ex("a", "I am glad you came back home.", "joy"), ex("b", "Fine, have it your way.", "anger")]
    kept, dropped, outside = soft_labels(examples, FixedRater(), goemotions, threshold=0.3)
    assert [e.id for e in kept] == ["a"] and dropped == {"target_not_confirmed": 1}
    # MELD joy and surprise map onto GoEmotions joy and surprise; scores stay with the example
    assert kept[0].labels == ["joy", "surprise"] and kept[0].metadata["scores"]["joy"] == 0.9
    assert kept[0].metadata["rater"] == "fixed" and outside == {}


def test_a_rater_with_its_own_thresholds_labels_at_those():
    from emosynth.synth.pillars.select import soft_labels

    rater = FixedRater()
    rater.thresholds = [0.9, 0.5, 0.5, 0.1, 0.5, 0.5, 0.5]  # neutral hard to make, anger easy
    examples = [ex("a", "I am glad you came back home.", "joy"), ex("b", "Fine, have it your way.", "anger")]
    kept, dropped, _ = soft_labels(examples, rater, get_taxonomy("goemotions"), threshold=0.3)
    # joy 0.9 >= 0.5 but surprise 0.4 < 0.5; anger 0.2 >= 0.1 confirms b, neutral 0.8 < 0.9 is no label
    assert [(e.id, e.labels) for e in kept] == [("a", ["joy"]), ("b", ["anger"])] and not dropped


class NamesJoy(ScriptedStoryteller):
    """Stands in for the LLM: also answers the rating prompt, always with joy (label 17) and love (18)."""

    def complete(self, request):
        if "Which emotions does this express?" in request.messages[-1]["content"]:
            return Completion('{"labels": [17, 18]}', "stop", 10, 5, self.model_id)
        return super().complete(request)


def test_the_runs_own_llm_can_rate_and_its_calls_count(tmp_path):
    from emosynth.quality.raters import LLMRater

    config = PillarsConfig.create(n=3, per_call=3, targets={"joy": 1})
    llm = NamesJoy()
    out = tmp_path / "pillars.jsonl"
    passage = Passage("tale/0", "tale", 0, "The fox met the hen.")
    d = PillarsSynthesizer(config, llm, [passage], rater=LLMRater(llm, get_taxonomy("goemotions"))).run(out).to_dict()
    # a call keeps 2 utterances (one repeats another), short of n = 3: a second round of one call makes 4; each is
    # rated once without context, and the first of each call once more with the context written for it
    assert d["stages"]["utterances"]["calls"] == 2 and d["stages"]["context"]["calls"] == 2
    assert d["contextless_examples"] == 4 and d["contextual_examples"] == 2
    assert d["stages"]["rating"]["calls"] == 4 + 2 and d["llm_calls"] == 1 + 2 + 2 + 6
    for _, obj in iter_jsonl(out.with_name("pillars_contextless.jsonl")):
        assert obj["labels"] == ["joy", "love"] and obj["metadata"]["scores"]["joy"] == 1.0


class ConfirmsWell:
    """Stands in for a classifier (not the run under test): confirms joy for texts that start with "Well"."""

    name, identity, reads_context, thresholds = "classifier", "well", False, None
    taxonomy = get_taxonomy("goemotions")

    def rate(self, examples):
        joy = self.taxonomy.labels.index("joy")
        return [[float(i == joy and e.text.startswith("Well")) for i in range(28)] for e in examples]


class Recording(ScriptedStoryteller):
    """The scripted storyteller, keeping the prompts of the context stage."""

    def __init__(self):
        super().__init__()
        self.context_prompts = []

    def complete(self, request):
        if " says: " in request.messages[-1]["content"]:
            self.context_prompts.append(request.messages[-1]["content"])
        return super().complete(request)


def test_with_a_rater_calls_come_in_rounds_until_n_are_accepted_and_only_accepted_ones_get_contexts(tmp_path):
    config = PillarsConfig.create(n=2, per_call=3, contexts_per_call=2, calls_per_passage=10, targets={"joy": 1})
    llm, out = Recording(), tmp_path / "pillars.jsonl"
    passage = Passage("tale/0", "tale", 0, "The fox met the hen.")
    d = PillarsSynthesizer(config, llm, [passage], rater=ConfirmsWell()).run(out).to_dict()
    # one call per round is planned first; it keeps one "Well" line, so the next round asks for 1.1 more per
    # accepted example per call: 2 calls; each call's one accepted utterance gets its context, nothing else does
    assert d["stages"]["utterances"]["calls"] == 3 and d["contextless_examples"] == 3
    assert d["dropped_examples"] == {"target_not_confirmed": 3}
    assert d["targets"] == {"joy": {"written": 6, "accepted": 3}}  # 2 kept lines per call, the "Well" one accepted
    assert len(llm.context_prompts) == d["stages"]["context"]["calls"] == 3 and d["contextual_examples"] == 3
    for prompt in llm.context_prompts:
        assert prompt.count(" says: ") == 1 and ' says: "Well, that makes' in prompt
    # rounds of at most `round_calls` new calls: here one call at a time, so the second round stops at 2 accepted
    one_by_one = config.model_copy(update={"round_calls": 1})
    d = PillarsSynthesizer(one_by_one, Recording(), [passage], rater=ConfirmsWell()).run(tmp_path / "o.jsonl").to_dict()
    assert d["stages"]["utterances"]["calls"] == 2 and d["contextless_examples"] == 2
    # a call limit stops the rounds where it is
    capped = config.model_copy(update={"n": 50, "max_calls": 4})
    d = PillarsSynthesizer(capped, llm, [passage], rater=ConfirmsWell()).run(out).to_dict()
    assert d["stages"]["utterances"]["calls"] == 1 and d["contextless_examples"] == 4


class ConfirmsAll(ConfirmsWell):
    """Stands in for a classifier: confirms joy for every text."""

    def rate(self, examples):
        joy = self.taxonomy.labels.index("joy")
        return [[float(i == joy) for i in range(28)] for _ in examples]


class Spotty(Recording):
    """The recording storyteller whose replies to some seeds of the utterance stage never parse, whose second
    context in a reply is always empty, and which stops (as a killed run would) after ``stop_after`` utterance
    requests."""

    def __init__(self, unreadable_seeds, stop_after=None):
        super().__init__()
        self.unreadable, self.stop_after, self.utterance_requests = unreadable_seeds, stop_after, 0

    def complete(self, request):
        prompt = request.messages[-1]["content"]
        if "different things" in prompt:
            self.utterance_requests += 1
            if self.stop_after is not None and self.utterance_requests > self.stop_after:
                raise KeyboardInterrupt
        completion = super().complete(request)
        if "different things" in prompt and request.seed in self.unreadable:
            completion.text = "Sure! Here are some lines"
        elif " says: " in prompt:
            contexts = json.loads(completion.text)["contexts"]
            completion.text = json.dumps({"contexts": [c if i % 2 == 0 else "" for i, c in enumerate(contexts)]})
        return completion


def test_what_a_round_gives_up_on_is_not_asked_again_and_every_round_leaves_its_examples(tmp_path):
    from emosynth.synth.specs import seed_for

    config = PillarsConfig.create(
        n=4, per_call=3, contexts_per_call=2, calls_per_passage=10, max_attempts=2, targets={"joy": 1}
    )
    call_0 = {seed_for(0, "pillars-s0-000000", attempt) for attempt in range(2)}
    passage, out = Passage("tale/0", "tale", 0, "The fox met the hen."), tmp_path / "pillars.jsonl"
    # round 1 plans calls 0 and 1: call 0 never parses (2 attempts), call 1 keeps 2 utterances; then the run stops
    with pytest.raises(KeyboardInterrupt):
        PillarsSynthesizer(config, Spotty(call_0, stop_after=3), [passage], rater=ConfirmsAll()).run(out)
    assert len(list(iter_jsonl(out.with_name("pillars_contextless.jsonl")))) == 2  # round 1's examples are kept
    assert json.loads(sidecar(out, "summary.json").read_text())["contextual_examples"] == 1
    # resumed: round 2 asks calls 2-4 (at 1 accepted per call, 1.1 x 2 more), not call 0 again nor the context
    # dropped from call 1's reply (its second context came back empty)
    llm = Spotty(call_0)
    llm.calls = 100  # its lines differ from the first storyteller's (they number them by its calls)
    d = PillarsSynthesizer(config, llm, [passage], rater=ConfirmsAll()).run(out).to_dict()
    assert llm.utterance_requests == 3 and d["stages"]["utterances"]["failed"] == {}
    assert d["contextless_examples"] == 8 and d["contextual_examples"] == 4
    assert len(llm.context_prompts) == 3 and all(p.count(" says: ") == 2 for p in llm.context_prompts)
    assert d["dropped_contexts"] == {"empty_context": 4}  # the whole output's, call 1's from the first run too
    rejected = [obj for _, obj in iter_jsonl(sidecar(out, "rejected.jsonl"))]
    assert [r["id"] for r in rejected if r["id"].startswith("utterances:")] == ["utterances:pillars-s0-000000"]
    dropped = [r for r in rejected if r["id"].startswith("context:")]
    assert len(dropped) == 4 and {r["reason"] for r in dropped} == {"empty_context"}
    # the same within one run: nothing given up is asked again in a later round
    llm, fresh = Spotty(call_0), tmp_path / "fresh" / "pillars.jsonl"
    d = PillarsSynthesizer(config, llm, [passage], rater=ConfirmsAll()).run(fresh).to_dict()
    assert llm.utterance_requests == 2 + 1 + 3 and d["stages"]["utterances"]["failed"] == {"unparseable": 1}
    assert len(llm.context_prompts) == 4 and d["dropped_contexts"] == {"empty_context": 4}


def test_rebuilding_without_calls_counts_only_the_passages_read_before(tmp_path):
    passages = [Passage(f"tale/{k}", "tale", k, f"The fox met the hen {k} times.") for k in range(8)]
    config = PillarsConfig.create(n=3, per_call=3, calls_per_passage=1)  # one utterance call, on one passage
    out, llm = tmp_path / "pillars.jsonl", ScriptedStoryteller()
    first = PillarsSynthesizer(config, llm, passages).run(out).to_dict()
    assert first["passages_read"] == 3  # the characters stage reads two passages ahead
    calls = llm.calls
    more = config.model_copy(update={"n": 12})
    rebuilt = PillarsSynthesizer(more, llm, passages).run(out, calls=False).to_dict()
    assert rebuilt["passages_read"] == 3 and llm.calls == calls
