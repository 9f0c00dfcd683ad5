import pytest

from emosynth.data.emorynlp import read_emorynlp
from emosynth.data.export import export_dialogues
from emosynth.data.meld import read_meld
from emosynth.data.turn_tsv import read_turn_tsv
from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy

DIALOGUES = [
    Dialogue("a", [Turn("Anna", "Ew, gross, right?", "disgust"), Turn("Ben", "Wow, “really”…", "surprise")], "meld"),
    Dialogue(
        "b",
        [
            Turn("Cleo", "I'm fine.", "neutral"),
            Turn("Dan", "Great news!", "joy"),
            Turn("Cleo", "Oh no.", "sadness"),
        ],
        "meld",
    ),
]


def test_meld_csv_reads_back_with_the_meld_reader(tmp_path):
    export_dialogues(DIALOGUES, tmp_path / "train_sent_emo.csv", "meld-csv")
    back = read_meld("train", tmp_path)
    assert [d.turns for d in back] == [d.turns for d in DIALOGUES]


def test_emorynlp_csv_maps_labels_and_reads_back(tmp_path):
    iemocap = [Dialogue("c", [Turn("A", "Yes!", "excited"), Turn("B", "Ugh.", "frustrated")], "iemocap")]
    export_dialogues(iemocap, tmp_path / "emorynlp_train_final.csv", "emorynlp-csv")
    back = read_emorynlp("train", "csv", tmp_path)
    assert [t.emotion for t in back[0].turns] == ["Joyful", "Mad"]


def test_label_without_equivalent_is_refused(tmp_path):
    d = [Dialogue("e", [Turn("A", "Calm.", "Peaceful")], "emorynlp")]
    with pytest.raises(ConfigError, match="label 'Peaceful' \\(emorynlp\\) has no meld equivalent"):
        export_dialogues(d, tmp_path / "x.csv", "meld-csv")


def test_turn_tsv_reads_back(tmp_path):
    export_dialogues(DIALOGUES, tmp_path / "t.txt", "turn-tsv")
    back = read_turn_tsv(tmp_path / "t.txt", get_taxonomy("meld"), "x")
    assert [d.turns for d in back] == [d.turns for d in DIALOGUES]


def test_parquet_and_hf_keep_nested_turns(tmp_path):
    import datasets
    import pyarrow.parquet as pq

    export_dialogues(DIALOGUES, tmp_path / "d.parquet", "parquet")
    table = pq.read_table(tmp_path / "d.parquet").to_pylist()
    assert table[1]["turns"][1] == {"speaker": "Dan", "text": "Great news!", "emotion": "joy"}
    export_dialogues(DIALOGUES, tmp_path / "hf", "hf")
    ds = datasets.load_from_disk(str(tmp_path / "hf"))
    assert ds.num_rows == 2 and ds[0]["turns"][0]["emotion"] == "disgust"


def test_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="Unknown export format 'xlsx'"):
        export_dialogues(DIALOGUES, tmp_path / "x", "xlsx")
