"""Label fidelity: blind judges, agreement, ceilings and filtering."""

import json
import subprocess
import sys

import pytest

from emosynth.data.io import JsonlWriter, read_dialogues
from emosynth.errors import ConfigError
from emosynth.llm.base import Completion, LLMBackend
from emosynth.quality.agreement import Verdicts, agreement, balanced_positions, ceiling, judge_dataset
from emosynth.quality.filtering import filter_dialogues
from emosynth.quality.judges import ClassifierJudge, LLMJudge
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy

MELD = get_taxonomy("meld")
EMORY = get_taxonomy("emorynlp")


def dlg(id_, *turns, tax="meld"):
    return Dialogue(id_, [Turn(s, t, e) for s, t, e in turns], tax)


def test_the_llm_judge_never_sees_the_label_or_later_turns():
    judge = LLMJudge(backend=None, taxonomy=MELD)
    a = dlg("a", ("Ann", "We won the cup!", "joy"), ("Ben", "No way.", "surprise"), ("Ann", "Later line.", "fear"))
    b = dlg("b", ("Ann", "We won the cup!", "anger"), ("Ben", "No way.", "disgust"), ("Ann", "Later line.", "joy"))
    assert judge.request(a, 1) == judge.request(b, 1)  # only the labels differ: the same request
    prompt = judge.request(a, 1).messages[-1]["content"]
    assert "Ann: We won the cup!" in prompt and "Ben: No way." in prompt and "Later line" not in prompt
    assert "0: neutral" in prompt and "6: fear" in prompt
    assert judge.request(a, 1).json_schema["properties"]["label"]["enum"] == list(range(7))


def test_the_llm_judge_labels_turns_with_the_real_model(smollm):
    judge = LLMJudge(smollm, MELD)
    d = dlg("a", ("Ann", "I am so happy, we won!", "joy"), ("Ben", "That is disgusting, take it away.", "disgust"))
    labels = judge.judge([(d, 0), (d, 1)])
    assert len(labels) == 2 and all(label in MELD.labels for label in labels)


def test_agreement_per_label_and_confusion():
    gold = ["joy", "joy", "anger", None, "fear"]
    judged = ["joy", "neutral", "anger", "joy", None]
    result = agreement(gold, judged, list(MELD.labels))
    assert result["n"] == 3 and result["overall"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["per_label"] == {"joy": 0.5, "anger": 1.0} and result["macro"] == 0.75
    assert result["unmappable"] == 1 and result["unanswered"] == 1
    cm = result["confusion"]["matrix"]
    assert cm[MELD.index("joy")][MELD.index("neutral")] == 1 and sum(map(sum, cm)) == 3


class Always:
    """A judge that always answers one label (stands in for a model; ceiling/sampling are under test)."""

    def __init__(self, label, taxonomy=MELD, name="always"):
        self.label, self.taxonomy, self.name = label, taxonomy, name

    def judge(self, positions):
        return [self.label for _ in positions]


def test_ceiling_is_taken_on_a_label_balanced_sample():
    dev = [
        dlg(f"d{k}", ("A", f"line {k}", "neutral"), ("B", f"joy {k}", "joy"), ("A", f"n {k}", "neutral"))
        for k in range(10)
    ]
    positions = balanced_positions(dev, list(MELD.labels), per_label=4, seed=0)
    assert [d.turns[i].emotion for d, i in positions].count("neutral") == 4 and len(positions) == 8
    assert positions == balanced_positions(dev, list(MELD.labels), per_label=4, seed=0)
    result = ceiling(Always("neutral"), dev, per_label=4)
    assert result["overall"] == 0.5 and result["per_label"] == {"neutral": 1.0, "joy": 0.0}


@pytest.fixture
def data():
    return [
        dlg("a", ("A", "yay", "joy"), ("B", "hmm", "neutral"), ("A", "grr", "anger")),
        dlg("b", ("A", "ok", "neutral"), ("B", "eek", "fear")),
    ]


def test_turn_level_filter_relabels_what_the_judges_agree_on(data):
    verdicts = Verdicts(
        data,
        {"x": ["joy", "sadness", "joy", "neutral", "fear"], "y": ["joy", "sadness", "sadness", "neutral", "fear"]},
        {"x": MELD, "y": MELD},
    )
    kept, stats = filter_dialogues(verdicts, "turn")
    # turn a1: both say sadness -> relabelled; a2: both disagree with anger but not with each other -> kept
    assert [t.emotion for t in kept[0].turns] == ["joy", "sadness", "anger"]
    assert kept[0].metadata["relabelled"] == {"turns": [1], "by": ["x", "y"], "from": ["neutral"]}
    assert stats["turns_relabelled"] == 1 and stats["dialogues_out"] == 2
    only_x, _ = filter_dialogues(verdicts, "turn", by=("x",))
    assert [t.emotion for t in only_x[0].turns] == ["joy", "sadness", "joy"]
    assert data[0].turns[1].emotion == "neutral"  # the input is not modified


def test_dialogue_level_filter_drops_by_disagreement_fraction(data):
    verdicts = Verdicts(data, {"x": ["joy", "sadness", "anger", "neutral", "joy"]}, {"x": MELD})
    kept, stats = filter_dialogues(verdicts, "dialogue")
    assert [d.id for d in kept] == [] and stats["dialogues_dropped"] == 2
    kept, _ = filter_dialogues(verdicts, "dialogue", max_disagreement=0.5)
    assert [d.id for d in kept] == ["a", "b"]  # 1/3 and 1/2 of their turns disagree
    with pytest.raises(ConfigError, match="Unknown filter level"):
        filter_dialogues(verdicts, "word")
    with pytest.raises(ConfigError, match="No judge named 'z'"):
        filter_dialogues(verdicts, by=("z",))


def test_a_judge_with_another_label_set_is_compared_through_the_mapping(data):
    verdicts = Verdicts(data, {"e": ["Joyful", "Sad", "Mad", "Peaceful", "Scared"]}, {"e": EMORY})
    assert verdicts.gold("e") == ["Joyful", "Neutral", "Mad", "Neutral", "Scared"]
    report = verdicts.report()["e"]
    assert report["n"] == 5 and report["overall"] == pytest.approx(3 / 5)
    kept, _ = filter_dialogues(verdicts, "turn")
    # "Sad" maps back to sadness; "Peaceful" has no MELD equivalent, so that turn keeps its label
    assert [t.emotion for t in kept[0].turns] == ["joy", "sadness", "anger"] and kept[1].turns[0].emotion == "neutral"


@pytest.fixture
def saved_classifier(tiny_bert, tmp_path):
    from emosynth.train.sequence import SequenceClassifier

    model = SequenceClassifier(tiny_bert, list(MELD.labels), kind="utterance", max_length=32)
    model.save(tmp_path / "clf")
    return tmp_path / "clf", model


def test_the_classifier_judge_predicts_what_the_saved_model_predicts(saved_classifier, data):
    from emosynth.train.inference import predict
    from emosynth.train.items import turn_items

    path, model = saved_classifier
    judge = ClassifierJudge(str(path))
    assert judge.taxonomy.name == "meld"
    verdicts = judge_dataset(data, [judge])
    expected = predict(model, turn_items(data, None))
    assert verdicts.judged["classifier"] == [MELD.labels[k] for k in expected]
    assert set(verdicts.seconds) == {"classifier"} and verdicts.seconds["classifier"] > 0
    assert judge.judge([(data[1], 1)]) == [MELD.labels[expected[4]]]


def test_cli_verify_reports_agreement_and_writes_a_filtered_copy(saved_classifier, data, tiny_bert, tmp_path):
    from emosynth.train.sequence import SequenceClassifier

    path, _ = saved_classifier
    context = tmp_path / "ctx"  # a second judge, reading the dialogue so far, that did not choose the turns
    SequenceClassifier(tiny_bert, list(MELD.labels), kind="context", max_length=32).save(context)
    synthetic = tmp_path / "s.jsonl"
    data[0].metadata = (data[0].metadata or {}) | {"judge": {"selected_by": str(path)}}  # best-of-n chose them
    with JsonlWriter(synthetic) as w:
        for d in data:
            w.write(d.to_dict())
    report, filtered = tmp_path / "fid.json", tmp_path / "filtered.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "emosynth",
        "verify",
        str(synthetic),
        "--classifier",
        str(path),
        "--classifier",
        str(context),
        "--no-llm",
        "--ceiling-from",
        str(synthetic),
        "--ceiling-per-label",
        "1",
        "--json",
        str(report),
        "--drop-disagreeing",
        str(filtered),
        "--filter-level",
        "dialogue",
        "--max-disagreement",
        "0.5",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    saved = json.loads(report.read_text())
    entry = saved["judges"]["classifier"]
    assert saved["turns"] == 5 and entry["agreement"]["n"] == 5 and entry["ceiling"]["n"] == 4
    assert saved["filter"]["dialogues_in"] == 2 and len(read_dialogues(filtered)) == saved["filter"]["dialogues_out"]
    beside = json.loads((tmp_path / "filtered.filter.json").read_text())
    assert beside == saved["filter"] | {"source": str(synthetic)}
    assert run.stdout.startswith("classifier judge")
    # the judge that chose the turns is named, and grading with it is flagged
    assert saved["selected_by"] == str(path) and entry["selected_these_turns"] is True
    other = saved["judges"]["classifier:context"]
    assert other["model"] == str(context) and other["selected_these_turns"] is False and other["agreement"]["n"] == 5
    assert "WARNING: this judge chose these turns" in run.stdout
    same = subprocess.run([*cmd[:-6], "--drop-disagreeing", str(synthetic)], capture_output=True, text=True)
    assert same.returncode == 2 and "would overwrite the data" in same.stderr
    assert len(read_dialogues(synthetic)) == 2
    # the first dialogue only (the LLM judge is slow); a filtered copy would need every dialogue judged
    part = subprocess.run([*cmd[:-6], "--first", "1"], capture_output=True, text=True, timeout=300)
    assert part.returncode == 0, part.stderr
    saved = json.loads(report.read_text())
    assert saved["first"] == 1 and saved["dialogues"] == 1 and saved["turns"] == len(data[0].turns) < 5
    assert saved["judges"]["classifier"]["agreement"]["n"] == len(data[0].turns) and "filter" not in saved
    both = subprocess.run([*cmd, "--first", "1"], capture_output=True, text=True)
    assert both.returncode == 2 and "--first 1 judges part of" in both.stderr
    from emosynth.quality.verify import VerifySettings  # a part's report goes beside the whole file's by default

    assert VerifySettings(first=1).report_path(synthetic) == tmp_path / "s.fidelity.first1.json"
    assert VerifySettings().report_path(synthetic) == tmp_path / "s.fidelity.json"


class Replies(LLMBackend):
    """Stands in for a server that ignores the schema (the judge's parsing is under test)."""

    name, model_id = "scripted", "replies"

    def __init__(self, texts):
        self.texts = iter(texts)

    def complete(self, request):
        return Completion(next(self.texts), "stop", 5, 3, self.model_id)


def test_judge_answers_that_are_not_a_label_count_as_unanswered():
    d = dlg("a", *[("A", f"line {k}", "neutral") for k in range(6)])
    replies = ['{"label": 1}', '{"label": -1}', '{"label": true}', '{"label": 2.0}', "no json", '{"label": 7}']
    labels = LLMJudge(Replies(replies), MELD).judge([(d, k) for k in range(6)])
    assert labels == ["joy", None, None, None, None, None]


def test_a_judge_label_that_maps_back_onto_the_same_label_is_not_a_relabel():
    d = [dlg("a", ("A", "yay", "joy"))]
    # an IEMOCAP judge says "excited" where joy maps to "happy": both are joy in MELD's set
    verdicts = Verdicts(d, {"i": ["excited"]}, {"i": get_taxonomy("iemocap")})
    assert verdicts.gold("i") == ["happy"]
    kept, stats = filter_dialogues(verdicts, "turn")
    assert stats["turns_relabelled"] == 0 and "relabelled" not in kept[0].metadata


def test_a_label_unknown_to_the_data_set_is_counted_as_unmappable_not_fatal():
    d = [dlg("a", ("A", "hi", "neutral"), ("B", "meh", "boredom"))]
    verdicts = Verdicts(d, {"j": ["neutral", "neutral"]}, {"j": MELD})
    assert verdicts.gold("j") == ["neutral", None]
    assert verdicts.report()["j"]["unmappable"] == 1 and verdicts.report()["j"]["n"] == 1
