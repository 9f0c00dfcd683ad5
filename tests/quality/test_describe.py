"""Dataset statistics of `emosynth inspect`, on corpora whose answers are known."""

import json
import math
import subprocess
import sys

import pytest

from emosynth.data.io import JsonlWriter
from emosynth.errors import ConfigError, UnknownNameError
from emosynth.quality.corpus import Corpus, load_corpus
from emosynth.quality.describe import describe_corpus, js_divergence, label_distribution, repeat_rate, transitions
from emosynth.quality.diversity import SentenceEncoder, near_duplicate_rate, self_bleu, semantic_diversity
from emosynth.quality.leakage import leakage
from emosynth.records import Dialogue, Example, Turn
from emosynth.report.tables import format_table
from emosynth.taxonomy import get_taxonomy

from ..conftest import needs_data

MELD = get_taxonomy("meld")


def dialogue(id_, *turns, tax="meld"):
    return Dialogue(id_, [Turn(s, t, e) for s, t, e in turns], tax)


@pytest.fixture
def corpus():
    return Corpus(
        "toy",
        MELD,
        dialogues=[
            dialogue(
                "a", ("A", "Hi there.", "neutral"), ("B", "I am so happy today!", "joy"), ("A", "hi there!", "joy")
            ),
            dialogue("b", ("C", "That is disgusting.", "disgust"), ("D", "I am angry about the rent.", "anger")),
        ],
    )


def test_label_distribution_transitions_and_repeats(corpus):
    dist = label_distribution(corpus)
    assert dist["joy"] == pytest.approx(2 / 5) and dist["fear"] == 0 and sum(dist.values()) == pytest.approx(1)
    tr = transitions(corpus)
    # a: neutral->joy (shift), joy->joy (no shift); b: disgust->anger (shift)
    assert tr["pairs"] == 3 and tr["shift_rate"] == pytest.approx(2 / 3)
    assert tr["matrix"]["neutral"]["joy"] == 1.0 and tr["matrix"]["joy"]["joy"] == 1.0
    assert repeat_rate(corpus) == pytest.approx(1 / 5)  # "hi there!" repeats "Hi there." (case/punctuation folded)


def test_label_distribution_maps_into_another_set_and_js_divergence_bounds():
    emory = Corpus(
        "e",
        get_taxonomy("emorynlp"),
        dialogues=[dialogue("x", ("A", "yay", "Joyful"), ("B", "calm", "Peaceful"), tax="emorynlp")],
    )
    into_meld = label_distribution(emory, MELD)
    assert into_meld["joy"] == 1.0  # Peaceful has no MELD equivalent and is left out
    p = {"a": 0.5, "b": 0.5}
    assert js_divergence(p, p) == pytest.approx(0.0)
    assert js_divergence({"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}) == pytest.approx(1.0)
    assert math.isnan(js_divergence({"a": 0.0}, {"a": 1.0}))


def test_leakage_counts_a_label_named_in_its_own_text(corpus):
    result = leakage(corpus)
    # "I am so happy today!" (joy -> happy), "disgusting" (disgust), "angry" (anger); "hi there!" (joy) does not
    assert result["per_label"] == {"neutral": 0.0, "joy": 0.5, "anger": 1.0, "disgust": 1.0}
    assert result["rate"] == pytest.approx(3 / 5)


def test_near_duplicates_and_self_bleu():
    texts = [
        "we should go to the beach on saturday morning with the kids",
        "we should go to the beach on saturday morning with the kids!",
        "my landlord raised the rent again and I cannot afford it",
        "okay",
        "Okay.",
    ]
    assert near_duplicate_rate(texts) == pytest.approx(4 / 5)
    assert self_bleu(["the same sentence here"] * 5) == pytest.approx(1.0)
    assert self_bleu(texts) < 0.5
    assert self_bleu(["one"]) is None


def test_semantic_diversity_is_zero_for_identical_texts(tiny_bert):
    encoder = SentenceEncoder(str(tiny_bert))
    same = Corpus("s", MELD, examples=[Example(str(i), "i am so happy today", ["joy"], "meld") for i in range(4)])
    assert semantic_diversity(same, encoder)["overall"] == pytest.approx(0.0, abs=1e-5)
    varied = Corpus(
        "v",
        MELD,
        examples=[
            Example(str(i), t, ["joy"], "meld")
            for i, t in enumerate(["hello", "the weather is okay", "what", "i am so angry"])
        ],
    )
    result = semantic_diversity(varied, encoder)
    assert result["overall"] > 0.01 and set(result["per_label"]) == {"joy"}
    emb = encoder.encode(["hello", "what", "hello"])
    assert emb.shape == (3, 32) and abs(emb[0] - emb[2]).max() < 1e-5 and abs(emb[0] - emb[1]).max() > 1e-3


def test_inspect_report_with_a_real_set_to_compare(corpus):
    real = Corpus("real", MELD, dialogues=[dialogue("r", ("A", "ok", "neutral"), ("B", "fine", "neutral"))])
    report = describe_corpus(corpus, real, seed=1)
    assert report["size"] == {"dialogues": 2, "texts": 5}
    assert report["against"]["difference"]["neutral"] == pytest.approx(0.2 - 1.0)
    assert 0 < report["against"]["js_divergence"] <= 1
    assert report["turns_per_dialogue"]["mean"] == 2.5 and report["speakers_per_dialogue"]["max"] == 2
    table = format_table([report, describe_corpus(real)])
    assert "label joy" in table and "40.0%" in table and table.splitlines()[0].split() == ["toy", "real"]
    json.dumps(report)  # JSON-ready


def test_load_corpus_reads_jsonl_benchmarks_and_refuses_bad_input(tmp_path, corpus):
    path = tmp_path / "d.jsonl"
    with JsonlWriter(path) as w:
        for d in corpus.dialogues:
            w.write(d.to_dict())
    loaded = load_corpus(path)
    assert loaded.is_dialogue and len(loaded) == 2 and loaded.name == "d"
    ex = tmp_path / "e.jsonl"
    with JsonlWriter(ex) as w:
        w.write(Example("1", "yay", ["joy", "surprise"], "goemotions").to_dict())
    assert load_corpus(ex).labels() == [["joy", "surprise"]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n{not json\n{}\n")
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: not valid JSON"):
        load_corpus(bad)
    with pytest.raises(UnknownNameError, match="neither a JSONL file nor a benchmark"):
        load_corpus("friends:train")
    with pytest.raises(ConfigError, match="isear is not shipped"):
        load_corpus("isear")


def test_load_corpus_reads_a_fixture_benchmark_by_path():
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures"
    isear = load_corpus(f"isear:{fixtures / 'isear' / 'isear.csv'}")
    assert not isear.is_dialogue and len(isear) > 0 and isear.taxonomy.name == "isear"
    iemocap = load_corpus(f"iemocap:{fixtures / 'iemocap'}:train")
    assert iemocap.is_dialogue and iemocap.taxonomy.name == "iemocap"
    assert load_corpus(f"emocontext:{fixtures / 'emocontext'}").examples[1].labels == ["angry"]
    with pytest.raises(ConfigError, match="iemocap is not shipped"):
        load_corpus("iemocap:train")


@needs_data
def test_cli_inspect_synthetic_against_real_side_by_side(tmp_path):
    out = tmp_path / "stats.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "emosynth",
            "inspect",
            "data/samples/meld_balanced.jsonl",
            "--against",
            "meld:dev",
            "--no-semantic",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    header = run.stdout.splitlines()[0].split()
    assert header == ["meld_balanced", "meld:dev"]
    reports = json.loads(out.read_text())
    assert reports[0]["size"]["dialogues"] >= 45 and reports[1]["size"]["texts"] == 1109
    assert reports[0]["against"]["name"] == "meld:dev" and reports[1]["against"]["js_divergence"] == 0.0
