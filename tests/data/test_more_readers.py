import logging
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from emosynth.data.dailydialog import read_dailydialog
from emosynth.data.emocontext import read_emocontext
from emosynth.data.goemotions import read_goemotions
from emosynth.data.iemocap import read_iemocap
from emosynth.data.isear import read_isear, split_isear
from emosynth.errors import ConfigError
from emosynth.records import Example

from ..conftest import needs_data

FIXTURES = Path(__file__).parents[1] / "fixtures"


@needs_data
def test_goemotions_counts_and_multilabels():
    train = read_goemotions("train")
    assert len(train) == 43410 and sum(len(e.labels) > 1 for e in train) == 7102
    counts = Counter(lab for e in train for lab in e.labels)
    assert counts["neutral"] == 14219 and counts["grief"] == 77


def test_goemotions_bad_label_id_names_line(tmp_path):
    (tmp_path / "train.tsv").write_text('ok "quoted"\t1,27\tid1\nbad\t28\tid2\n')
    (tmp_path / "dev.tsv").write_text('ok "quoted"\t1,27\tid1\n')
    assert read_goemotions("dev", tmp_path)[0].labels == ["amusement", "neutral"]
    with pytest.raises(ConfigError, match=r"train\.tsv:2: label ids '28'"):
        read_goemotions("train", tmp_path)


@pytest.fixture
def dailydialog_dir(tmp_path):
    with zipfile.ZipFile(tmp_path / "validation.zip", "w") as z:
        z.writestr(
            "validation/dialogues_validation.txt",
            "Good morning . __eou__ Hi ! I got the job ! __eou__\n"
            "Ugh . __eou__ What ? __eou__ Nothing . __eou__\n"
            "One __eou__ Two __eou__\n",
        )
        z.writestr("validation/dialogues_emotion_validation.txt", "0 4 \n1 6 0 \n0 \n")
    return tmp_path


def test_dailydialog_reads_zip_and_skips_misaligned_dialogue(dailydialog_dir, caplog):
    with caplog.at_level(logging.WARNING):
        data = read_dailydialog("dev", dailydialog_dir)
    assert len(data) == 2
    assert [(t.speaker, t.emotion) for t in data[0].turns] == [("A", "no emotion"), ("B", "happiness")]
    assert data[1].turns[1].text == "What ?" and data[1].turns[1].emotion == "surprise"
    assert "dialogues_validation.txt:3: 2 utterances but 1 labels; dialogue skipped" in caplog.text


def test_isear_splits_by_position_and_drops_no_response():
    data = read_isear(FIXTURES / "isear" / "isear.csv")
    assert [e.labels[0] for e in data] == ["joy", "fear", "guilt", "shame"]
    assert data[1].text == "Walking home alone | at night, a car followed me."
    assert data[3].text == "When I forgot | my friend's | birthday."


def test_isear_split_is_stratified_and_seeded():
    examples = [Example(f"{lab}{i}", "t", [lab], "isear") for lab in ("joy", "fear") for i in range(50)]
    a, b = split_isear(examples, seed=1), split_isear(examples, seed=1)
    assert a == b and a != split_isear(examples, seed=2)
    assert len(a["test"]) == 20 and len(a["dev"]) == 10 and len(a["train"]) == 70
    assert sum(i.startswith("joy") for i in a["test"]) == 10
    assert not set(a["train"]) & set(a["test"])


def test_emocontext_with_header_and_crlf():
    data = read_emocontext(FIXTURES / "emocontext" / "train.txt")
    assert [e.labels[0] for e in data] == ["others", "angry", "others"]
    assert data[1].text == "Never saw you" and data[1].context == "When did I?\nsaw many times i think"
    assert not any("\r" in e.text for e in data)


def test_emocontext_unknown_label(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("0\ta\tb\tc\thappy\n1\ta\tb\tc\tjoyful\n")
    with pytest.raises(ConfigError, match=r"x\.txt:2: Unknown label 'joyful'.*happy, sad, angry, others"):
        read_emocontext(f)


def test_iemocap_split_files():
    assert len(read_iemocap("train", FIXTURES / "iemocap")) == 2
    with pytest.raises(ConfigError, match=r"Expected one IEMOCAP file \*_test\.txt"):
        read_iemocap("test", FIXTURES / "iemocap")
