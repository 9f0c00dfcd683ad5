"""Narrative corpora: the three layouts, passage splitting, and bad input named by file and line."""

import json

import pytest

from emosynth.data.stories import load_passages, pieces, read_stories, split_story
from emosynth.errors import ConfigError

from ..conftest import SHARED

WORDS = " ".join(f"w{i}" for i in range(30))


def write_fairytaleqa(root):
    folder = root / "section-stories" / "train"
    folder.mkdir(parents=True)
    (folder / "Fox-story.csv").write_text(
        'section,text\n1,"The fox ran. ""Wait!"" cried the hen.\nThe hen sat down."\n2,The end came.\n',
        encoding="utf-8",
    )
    (root / "story_meta.csv").write_text("filename,origin,split\nfox,grimm,train\n", encoding="utf-8")


def test_fairytaleqa_sections_become_paragraphs_with_split_and_origin(tmp_path):
    write_fairytaleqa(tmp_path)
    [story] = read_stories(tmp_path)
    assert story.id == "Fox" and story.source == "fairytaleqa"
    assert story.paragraphs == ['The fox ran. "Wait!" cried the hen.', "The hen sat down.", "The end came."]
    assert story.metadata == {"split": "train", "origin": "grimm"}


def test_txt_folders_and_jsonl_files_are_stories_too(tmp_path):
    (tmp_path / "tales" / "north").mkdir(parents=True)
    (tmp_path / "tales" / "north" / "bear.txt").write_text("Once a bear\nslept.\n\n\nIt woke up.\n", encoding="utf-8")
    [story] = read_stories(tmp_path / "tales")
    assert (story.id, story.paragraphs) == ("north/bear", ["Once a bear slept.", "It woke up."])
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text(json.dumps({"id": 7, "text": "A.\n\nB.", "author": "x"}) + "\n", encoding="utf-8")
    [story] = read_stories(jsonl)
    assert (story.id, story.paragraphs, story.metadata) == ("7", ["A.", "B."], {"author": "x"})


def test_passages_pack_whole_paragraphs_and_ids_are_stable(tmp_path):
    (tmp_path / "a.txt").write_text("\n\n".join(["one two three"] * 8), encoding="utf-8")
    passages = load_passages(tmp_path, max_words=20)
    assert [len(p.text.split()) for p in passages] == [18, 6]  # 6 whole paragraphs fit in 20 words, 7 do not
    assert [p.id for p in passages] == ["a/0", "a/1"] and passages[0].text.count("\n") == 5
    assert load_passages(tmp_path, max_words=20) == passages  # a rerun gets the same passages
    with pytest.raises(ConfigError, match="too small"):
        load_passages(tmp_path, max_words=5)


def test_a_long_paragraph_is_cut_at_sentence_ends_then_at_the_word_limit():
    assert pieces("Aa bb. Cc dd! Ee ff?", 4) == ["Aa bb. Cc dd!", "Ee ff?"]
    cut = pieces(WORDS + ".", 12)
    assert [len(c.split()) for c in cut] == [12, 12, 6] and " ".join(cut) == WORDS + "."
    from emosynth.data.stories import Story

    story = Story("s", ["x " * 15, "y " * 15, "z " * 3], "txt")
    assert [len(p.text.split()) for p in split_story(story, 20)] == [15, 18]


def test_bad_corpora_are_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: a story needs"):
        read_stories(bad)
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="two stories have the id 'a'"):
        read_stories(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="No story text found"):
        read_stories(tmp_path / "empty")
    with pytest.raises(ConfigError, match="No stories at"):
        read_stories(tmp_path / "missing")
    write_fairytaleqa(tmp_path / "fq")
    (tmp_path / "fq" / "section-stories" / "train" / "Bad-story.csv").write_text("sec,body\n1,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Bad-story.csv:1: missing FairytaleQA story columns"):
        read_stories(tmp_path / "fq")


@pytest.mark.skipif(SHARED is None or not (SHARED / "fairytaleqa_stories").is_dir(), reason="no FairytaleQA here")
def test_the_shared_fairytaleqa_corpus_reads_whole():
    stories = read_stories(SHARED / "fairytaleqa_stories")
    assert len(stories) == 278  # SOURCE.md: 278 stories
    assert sum(len(p.split()) for s in stories for p in s.paragraphs) == pytest.approx(600_000, rel=0.01)
    assert all("origin" in s.metadata for s in stories)
    passages = load_passages(SHARED / "fairytaleqa_stories", 300)
    assert max(len(p.text.split()) for p in passages) <= 300 and len({p.id for p in passages}) == len(passages)
