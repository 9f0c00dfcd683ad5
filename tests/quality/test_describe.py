"""Dataset statistics of `emosynth inspect`, on corpora whose answers are known."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emosynth.data.io import JsonlWriter
from emosynth.errors import ConfigError, UnknownNameError
from emosynth.quality.corpus import Corpus, load_corpus
from emosynth.quality.describe import describe_corpus, js_divergence, label_distribution, repeat_rate, transitions
from emosynth.quality.diversity import (
    SentenceEncoder,
    class_diversity,
    near_duplicate_rate,
    self_bleu,
    semantic_diversity,
)
from emosynth.quality.leakage import leakage
from emosynth.records import Dialogue, Example, Turn
from emosynth.report.tables import format_table
from emosynth.taxonomy import get_taxonomy

from ..conftest import needs_data

MELD = get_taxonomy("meld")
PILLARS = Path(__file__).parents[1] / "fixtures" / "pillars" / "examples.jsonl"


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


def test_class_diversity_reports_neutral_apart_from_the_emotion_mean():
    result = class_diversity(load_corpus(PILLARS))
    per = result["per_label"]
    assert set(per) == {"joy", "excitement", "anger", "annoyance", "neutral"}  # not the out-of-taxonomy boredom
    # neutral: "The train leaves at noon." twice -> 5 distinct of 10 bigrams, and each copy BLEUs 1.0 on the other
    assert per["neutral"] == {"texts": 2, "distinct_2": 0.5, "self_bleu": 1.0}
    assert per["joy"]["distinct_2"] == 1.0 and per["anger"]["distinct_2"] == 1.0  # no bigram repeats
    assert per["excitement"] == {"texts": 1, "distinct_2": None, "self_bleu": None}  # one text: no diversity
    assert result["neutral"] == {"distinct_2": 0.5, "self_bleu": 1.0}
    emotions = result["emotions"]
    assert emotions["labels"] == 2 and emotions["distinct_2"] == 1.0  # joy and anger; one-text labels left out
    assert emotions["self_bleu"] == pytest.approx((per["joy"]["self_bleu"] + per["anger"]["self_bleu"]) / 2, abs=1e-4)
    assert emotions["self_bleu"] < 0.5


def test_examples_report_out_of_taxonomy_labels_and_leakage_of_their_target():
    corpus = load_corpus(PILLARS)
    report = describe_corpus(corpus, seed=0)
    assert report["out_of_taxonomy"] == {"count": 1, "texts": 1, "per_label": {"boredom": 1}}
    assert report["label_counts"]["boredom"] == 1  # counted, never dropped
    # "furious" names anger (p-005's target); "annoying" names annoyance, but p-004 was written for anger
    assert report["leakage"]["per_label"] == {"anger": 0.5, "joy": 0.0, "neutral": 0.0}
    assert report["leakage"]["rate"] == pytest.approx(1 / 7)  # boredom (no target) is checked under its label
    assert report["context_personalization"]["near_duplicate_rate"] == 0.5
    assert report["class_diversity"]["neutral"]["distinct_2"] == 0.5
    assert label_distribution(corpus, MELD)["joy"] == pytest.approx(3 / 8)  # boredom is left out, not an error
    rows = format_table([report, describe_corpus(corpus, seed=0)])
    assert "distinct-2 per class, neutral" in rows and "contexts: near-duplicates in theme" in rows
    json.dumps(report)


def test_dialogue_reports_keep_their_shape(corpus):
    report = describe_corpus(corpus)
    assert "class_diversity" not in report and "context_personalization" not in report
    assert report["out_of_taxonomy"]["count"] == 0


def test_cli_inspect_example_files(tmp_path):
    data, out = tmp_path / "pillars.jsonl", tmp_path / "stats.json"
    shutil.copy(PILLARS, data)
    cmd = [sys.executable, "-m", "emosynth", "inspect", str(data), "--no-semantic", "--json", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = dict(line.rsplit(maxsplit=1) for line in run.stdout.splitlines()[1:])  # row name, then its one cell
    assert rows["out-of-taxonomy labels"] == "1" and rows["contexts: near-duplicates in theme"] == "50.0%"
    assert rows["distinct-2 per class, neutral"] == "0.500" and rows["distinct-2 per class, emotion mean"] == "1.000"
    (report,) = json.loads(out.read_text())
    assert report["kind"] == "examples" and report["out_of_taxonomy"]["per_label"] == {"boredom": 1}


def test_semantic_diversity_per_class_and_of_contexts_with_an_encoder(tiny_bert):
    report = describe_corpus(load_corpus(PILLARS), encoder=SentenceEncoder(str(tiny_bert)))
    classes = report["class_diversity"]
    assert classes["neutral"]["semantic"] == pytest.approx(0.0, abs=1e-4)  # the same neutral line twice
    assert classes["per_label"]["joy"]["semantic"] == report["semantic_diversity"]["per_label"]["joy"]
    assert classes["emotions"]["semantic"] is not None
    assert set(report["context_personalization"]["semantic_diversity"]["per_theme"]) == {"joy", "neutral"}
    table = format_table([report])
    assert "semantic diversity per class, neutral" in table and "contexts: semantic diversity in theme" in table


def test_openers_show_a_label_bought_with_a_formula_beside_the_real_share():
    from emosynth.quality.describe import openers

    synthetic = Corpus(
        "formula",
        MELD,
        dialogues=[
            dialogue(
                "a", ("A", "Ew, that smells.", "disgust"), ("B", "Eww! Gross!", "disgust"), ("A", "Ok.", "neutral")
            ),
            dialogue("b", ("C", "Ew, stop it.", "disgust"), ("D", "That is vile.", "disgust")),
        ],
    )
    real = Corpus(
        "real",
        MELD,
        dialogues=[dialogue("r", ("A", "Ew, no.", "disgust"), ("B", "Gross.", "disgust"), ("A", "Yuck.", "disgust"))],
    )
    stats = openers(synthetic)
    assert stats["disgust"] == {"texts": 4, "word": "ew", "word_share": 0.5, "bigram": "ew that", "bigram_share": 0.25}
    assert set(stats) == {"disgust", "neutral"}  # labels without texts have no opener
    report = describe_corpus(synthetic, real)
    # 2 of 4 synthetic disgust turns open with "ew"; the real top opener covers 1 of 3: a ratio of 1.5
    assert report["against"]["opener_ratio"] == {"disgust": 1.5}
    assert "top opener disgust" in format_table([report]) and "ew 50.0%" in format_table([report])
