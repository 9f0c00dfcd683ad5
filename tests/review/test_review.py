"""The review queue, the answer store, the summary figures and the Label Studio / Argilla round trips."""

import json
import shutil
import socket
from pathlib import Path

import pytest

from emosynth.errors import ConfigError
from emosynth.report.build import dataset_card
from emosynth.review.interchange import export_answers, import_answers
from emosynth.review.items import load_queue
from emosynth.review.server import ReviewSession, check_port
from emosynth.review.store import Answer, AnswerStore, store_path
from emosynth.review.summary import human_figures, review_summary
from emosynth.taxonomy import get_taxonomy

FIXTURES = Path(__file__).parents[1] / "fixtures" / "review"


@pytest.fixture
def dialogues(tmp_path):
    path = tmp_path / "dialogues.jsonl"
    shutil.copy(FIXTURES / "dialogues.jsonl", path)
    return path


@pytest.fixture
def examples(tmp_path):
    path = tmp_path / "examples.jsonl"
    shutil.copy(FIXTURES / "examples.jsonl", path)
    return path


def test_a_dialogue_is_queued_turn_by_turn_with_the_dialogue_so_far(dialogues):
    queue = load_queue(dialogues, sample=None)
    assert queue.kind == "dialogues" and queue.taxonomy.name == "meld" and len(queue.items) == 7
    third = queue.find("fx-1#2")
    assert third.earlier == (
        ("Ross", "You ate my sandwich? The one with the moist maker?"),
        ("Rachel", "I thought it was mine, I'm so sorry!"),
    )
    assert third.assigned == ("neutral",) and third.speaker == "Ross"
    assert "assigned" not in third.to_dict()  # the page gets the label only after the answer


def test_a_sample_takes_whole_dialogues_and_a_larger_one_extends_the_same_order(dialogues):
    whole = load_queue(dialogues, sample=None, seed=3).items
    small = load_queue(dialogues, sample=2, seed=3).items
    assert len({i.unit for i in small}) == 1 and len(small) in (3, 4)  # one whole dialogue, not two turns
    assert whole[: len(small)] == small


def test_examples_keep_their_context_and_every_label(examples):
    queue = load_queue(examples, sample=None)
    assert queue.kind == "examples" and queue.taxonomy.name == "goemotions"
    first = queue.find("px-1")
    assert first.assigned == ("gratitude", "love") and first.context.startswith("The miller's daughter")
    assert first.turn is None and first.earlier == ()


def test_bad_input_is_refused_with_the_file_and_line(tmp_path, dialogues):
    with pytest.raises(ConfigError, match="unknown file format '.csv'"):
        load_queue(tmp_path / "x.csv")
    lines = dialogues.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["turns"][0]["emotion"] = "hunger"
    (tmp_path / "bad.jsonl").write_text(lines[0] + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: Unknown label 'hunger' for taxonomy 'meld'"):
        load_queue(tmp_path / "bad.jsonl")
    (tmp_path / "twice.jsonl").write_text(lines[0] + "\n" + lines[0] + "\n")
    with pytest.raises(ConfigError, match=r"twice\.jsonl:2: the id 'fx-1' is used at line 1 already"):
        load_queue(tmp_path / "twice.jsonl")
    (tmp_path / "other.jsonl").write_text('{"rows": 1}\n')
    with pytest.raises(ConfigError, match=r"other\.jsonl:1: not an example record"):
        load_queue(tmp_path / "other.jsonl")


def test_answers_are_kept_per_annotator_and_a_changed_data_file_is_refused(dialogues):
    queue = load_queue(dialogues, sample=None)
    session = ReviewSession(queue, AnswerStore.beside(dialogues))
    first = session.state("alice")["item"]["key"]
    reply = session.answer("alice", first, "Anger", incoherent=True, names_emotion=False)
    assert reply["done"] == 1 and reply["assigned"] == [queue.find(first).assigned[0]]
    assert reply["item"]["key"] != first  # alice moves on; bob still starts at the beginning
    assert session.state("bob")["item"]["key"] == first and session.state("bob")["done"] == 0
    again = ReviewSession(load_queue(dialogues, sample=None), AnswerStore.beside(dialogues))  # a restart
    (kept,) = again.store.answers("alice")
    assert kept.perceived == "anger" and kept.incoherent and kept.text == queue.find(first).text
    with pytest.raises(ConfigError, match="Unknown label 'hunger'"):
        session.answer("alice", first, "hunger", False, False)
    with pytest.raises(ConfigError, match="no item 'nope#0'"):
        session.answer("alice", "nope#0", "joy", False, False)
    with dialogues.open("a") as fh:
        fh.write(dialogues.read_text().splitlines()[0].replace("fx-1", "fx-9") + "\n")
    with pytest.raises(ConfigError, match="the data changed since this review started"):
        AnswerStore.beside(dialogues)


def _answers(person, labels, assigned):
    return [
        Answer(person, f"d#{i}", p, (a,) if isinstance(a, str) else a, f"t{i}")
        for i, (p, a) in enumerate(zip(labels, assigned))
    ]


def test_the_summary_measures_agreement_with_the_labels_and_between_annotators():
    meld = get_taxonomy("meld")
    assigned = ["joy", "anger", "anger", "sadness"]
    alice = _answers("alice", ["joy", "joy", "anger", "sadness"], assigned)
    bob = _answers("bob", ["joy", "anger", "anger", "sadness"], assigned)
    summary = review_summary(alice + bob, meld)
    assert summary["answers"] == 8 and summary["items"] == 4
    assert summary["annotators"]["alice"]["overall"] == 0.75 and summary["annotators"]["bob"]["overall"] == 1.0
    assert summary["pooled"]["per_label"] == {"joy": 1.0, "anger": 0.75, "sadness": 1.0}
    matrix = summary["pooled"]["confusion"]["matrix"]
    assert matrix[meld.index("anger")][meld.index("joy")] == 1  # alice heard joy in an anger turn
    between = summary["between_annotators"]
    # by hand: observed 3/4; chance 0.5*0.25 + 0.25*0.5 + 0.25*0.25 = 0.3125 -> (0.75 - 0.3125) / 0.6875
    assert between["pairs"]["alice / bob"]["cohen_kappa"] == pytest.approx(0.6364, abs=1e-4)
    # Fleiss: pooled shares 3/8, 3/8, 2/8 -> chance 22/64; (0.75 - 22/64) / (1 - 22/64)
    assert between["fleiss_kappa"] == pytest.approx(0.6190, abs=1e-4)


def test_an_example_with_several_labels_agrees_when_any_of_them_is_named():
    goemotions = get_taxonomy("goemotions")
    answers = _answers("carol", ["love", "fear"], [("gratitude", "love"), ("joy", "relief")])
    summary = review_summary(answers, goemotions)
    assert summary["pooled"]["overall"] == 0.5 and summary["between_annotators"] is None
    assert summary["pooled"]["per_label"] == {"love": 1.0, "joy": 0.0}


@pytest.mark.parametrize("fmt", ["label-studio", "argilla"])
def test_answers_go_to_an_annotation_tool_and_come_back(tmp_path, dialogues, fmt):
    queue = load_queue(dialogues, sample=None)
    store = AnswerStore.beside(dialogues)
    given = [
        Answer("alice", "fx-1#0", "anger", ("anger",), "x", incoherent=True),
        Answer("alice", "fx-2#1", "joy", ("neutral",), "x", names_emotion=True),
        Answer("bob", "fx-1#0", "surprise", ("anger",), "x"),
    ]
    for a in given:
        store.save(a)
    out = tmp_path / f"{fmt}.json"
    assert export_answers(queue, store.answers(), fmt, out) == 7
    rows = json.loads(out.read_text())
    text = json.dumps(rows)
    assert "fx-1#2" in text and "<script>" in text  # every item goes out, text as data
    back = import_answers(queue, out, fmt)
    key = lambda a: (a.annotator, a.item, a.perceived, a.incoherent, a.names_emotion)  # noqa: E731
    assert sorted(map(key, back)) == sorted(map(key, given))
    assert all(a.text == queue.find(a.item).text and a.origin == fmt for a in back)
    if fmt == "label-studio":
        assert '<Choice value="sadness"/>' in out.with_suffix(".label_config.xml").read_text()
        rows[0]["annotations"][0]["result"][0]["value"]["choices"] = ["hunger"]
    else:
        rows[0]["responses"]["emotion"][0]["value"] = "hunger"
    out.write_text(json.dumps(rows))
    with pytest.raises(ConfigError, match="0: Unknown label 'hunger'"):
        import_answers(queue, out, fmt)


def test_a_port_in_use_is_refused_with_the_fix():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is in use.*pass --port"):
            check_port("127.0.0.1", port)


def test_the_report_card_gets_the_human_column(dialogues):
    assert dataset_card("meld/x", str(dialogues))["human"] is None
    store = AnswerStore.beside(dialogues)
    store.save(Answer("alice", "fx-1#0", "anger", ("anger",), "x"))
    store.save(Answer("alice", "fx-1#1", "joy", ("sadness",), "x"))
    human = dataset_card("meld/x", str(dialogues))["human"]
    assert human["pooled"]["overall"] == 0.5 and human["annotators"] == {"alice": human["annotators"]["alice"]}
    assert store_path(dialogues).name == "dialogues.review.sqlite"
    summary = human_figures(dialogues)
    store_path(dialogues).unlink()  # committed without the database: the written summary stands in
    (dialogues.parent / "dialogues.review.json").write_text(json.dumps(summary))
    assert dataset_card("meld/x", str(dialogues))["human"] == summary
