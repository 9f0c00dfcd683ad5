from pathlib import Path

import pytest

from emosynth.data.emorynlp import read_emorynlp
from emosynth.data.meld import read_meld
from emosynth.data.turn_tsv import read_turn_tsv
from emosynth.errors import ConfigError
from emosynth.taxonomy import get_taxonomy

from ..conftest import needs_data

FIXTURES = Path(__file__).parents[1] / "fixtures"


@needs_data
@pytest.mark.parametrize(
    ("split", "dialogues", "utterances", "first"),
    [
        ("train", 1038, 9989, ("Chandler", "neutral")),
        ("dev", 114, 1109, ("Phoebe", "sadness")),
        ("test", 280, 2610, ("Mark", "surprise")),
    ],
)
def test_meld_splits_match_the_official_counts(split, dialogues, utterances, first):
    data = read_meld(split)
    assert len(data) == dialogues and sum(len(d.turns) for d in data) == utterances
    assert (data[0].turns[0].speaker, data[0].turns[0].emotion) == first
    assert "’" in "".join(t.text for d in data for t in d.turns)  # typographic characters kept as they are


@needs_data
@pytest.mark.parametrize(
    ("version", "split", "scenes", "utterances"),
    [
        ("csv", "train", 659, 7551),
        ("csv", "test", 79, 984),
        ("full", "train", 713, 9934),
        ("full", "dev", 99, 1344),
    ],
)
def test_emorynlp_versions_match_the_source_counts(version, split, scenes, utterances):
    data = read_emorynlp(split, version)
    assert len(data) == scenes and sum(len(d.turns) for d in data) == utterances
    assert {t.emotion for d in data for t in d.turns} == set(get_taxonomy("emorynlp").labels)


def test_iemocap_fixture_with_short_codes():
    data = read_turn_tsv(FIXTURES / "iemocap" / "IEMOCAP_train.txt", get_taxonomy("iemocap"), "iemocap", "train")
    assert [len(d.turns) for d in data] == [3, 2]
    assert [t.emotion for t in data[0].turns] == ["neutral", "frustrated", "happy"]


def test_malformed_line_names_file_and_line(tmp_path):
    f = tmp_path / "x_train.txt"
    f.write_text("A\thi\tneu\nB only two\tfields\n")
    with pytest.raises(ConfigError, match=r"x_train\.txt:2: expected speaker<TAB>utterance<TAB>label"):
        read_turn_tsv(f, get_taxonomy("iemocap"), "iemocap")


def test_unknown_label_names_label_file_line_and_set(tmp_path):
    f = tmp_path / "train_sent_emo.csv"
    f.write_text(
        "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
        "1,Hi,Ross,neutral,neutral,0,0,1,1,a,b\n2,Yo,Joey,happy,positive,0,1,1,1,a,b\n"
    )
    with pytest.raises(ConfigError, match=r"train_sent_emo\.csv:3: Unknown label 'happy'.*expected one of: neutral"):
        read_meld("train", tmp_path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read MELD file"):
        read_meld("train", tmp_path)
