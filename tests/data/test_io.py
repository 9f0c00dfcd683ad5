import pytest

from emosynth.data.io import JsonlWriter, iter_jsonl, read_dialogues, repair_tail
from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Turn


def test_writer_appends_and_repairs_a_partial_last_line(tmp_path):
    f = tmp_path / "d.jsonl"
    with JsonlWriter(f) as w:
        w.write({"id": "a"})
    with open(f, "a") as fh:
        fh.write('{"id": "b", "tu')  # a write cut by a kill
    assert [o["id"] for _, o in iter_jsonl(f)] == ["a"]
    with JsonlWriter(f) as w:
        w.write({"id": "c"})
    assert [o["id"] for _, o in iter_jsonl(f)] == ["a", "c"]


def test_repair_tail_on_complete_file_changes_nothing(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text('{"a": 1}\n')
    assert repair_tail(f) == 0 and f.read_text() == '{"a": 1}\n'


def test_malformed_middle_line_names_file_and_line(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ConfigError, match=r"d\.jsonl:2: not valid JSON"):
        list(iter_jsonl(f))


def test_dialogue_round_trip(tmp_path):
    d = Dialogue("x", [Turn("A", "hi", "joy"), Turn("B", "yo", "neutral")], "meld", mode="natural", seed=3)
    f = tmp_path / "d.jsonl"
    with JsonlWriter(f) as w:
        w.write(d.to_dict())
    assert read_dialogues(f) == [d]
    assert d.speakers == ["A", "B"]


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="Cannot write"):
        JsonlWriter(blocker / "sub" / "out.jsonl")


def test_partial_multibyte_last_line_is_skipped(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_bytes('{"id": "a"}\n{"id": "é'.encode()[:-1])
    assert [o["id"] for _, o in iter_jsonl(f)] == ["a"]


def test_two_writers_on_one_output_are_refused(tmp_path):
    f = tmp_path / "d.jsonl"
    with JsonlWriter(f):
        with pytest.raises(ConfigError, match="being written by another run"):
            JsonlWriter(f)
    JsonlWriter(f).close()  # free again once the first is closed


def test_paths_inside_the_working_directory_are_shown_relative_to_it(tmp_path, monkeypatch):
    from emosynth.data.paths import shown

    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "data" / "x.jsonl") == "data/x.jsonl"
    assert shown("data/x.jsonl") == "data/x.jsonl"
    assert shown("/elsewhere/x.jsonl") == "/elsewhere/x.jsonl"
