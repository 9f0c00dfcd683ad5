"""Emo Pillars' 28-class examples pre-train encoders for tasks with fewer labels (ISEAR, EmoContext, IEMOCAP), read
from the user's own copies (written here in each dataset's format): labels map through the taxonomy, examples with
no equivalent are left out and counted, and each task reports its own metric."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from emosynth.errors import ConfigError
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy
from emosynth.train.args import TrainingArguments
from emosynth.train.items import example_items
from emosynth.train.regimes import RunConfig, run

GO = get_taxonomy("goemotions")
ISEAR_HEADER = "ID|" + "|".join(f"C{k}" for k in range(35)) + "|Field1|Field3|Field2|MYKEY|SIT|STATE|"
TEXTS = {
    "joy": "we won the cup today",
    "fear": "a dog chased me in the dark",
    "anger": "he broke my bike on purpose",
    "sadness": "my old cat died this week",
    "disgust": "the soup had a hair in it",
    "shame": "I forgot her birthday again",
    "guilt": "I lied to my mother",
}


def pillars(path: Path) -> Path:
    """Context-less Pillars examples: one per GoEmotions label (with the rater's scores), neutral and surprise twice."""
    labels = list(GO.labels) + ["neutral", "surprise"]
    rows = [
        Example(f"p{k}", f"utterance {k}", [lab], "goemotions", metadata={"scores": {lab: 0.9}}).to_dict()
        for k, lab in enumerate(labels)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_isear(path: Path) -> Path:
    rows = [
        f"{k}|" + "|".join("1" for _ in range(35)) + f"|{label}|x|y|k{k}|{text} {k}.|1|"
        for k, (label, text) in enumerate(list(TEXTS.items()) * 10)
    ]
    path.write_text(ISEAR_HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def write_emocontext(root: Path) -> Path:
    root.mkdir()
    lines = [("I won", "great", "so happy now", "happy"), ("it died", "oh no", "I miss it", "sad")]
    lines += [("you liar", "what", "I hate you", "angry"), ("hi", "hello", "what is your name", "others")]
    for split in ("train", "dev", "test"):
        rows = [f"{k}\t{a}\t{b}\t{c}\t{lab}" for k, (a, b, c, lab) in enumerate(lines * 3)]
        (root / f"{split}.txt").write_text("id\tturn1\tturn2\tturn3\tlabel\n" + "\n".join(rows) + "\n")
    return root


def write_iemocap(root: Path) -> Path:
    root.mkdir()
    turns = ["A\tI got the job!\thap", "B\tWe are going to Rome!\texc", "A\tFill in the form.\tneu"]
    turns += ["B\tThis queue again.\tfru", "A\tGet out!\tang", "B\tShe is gone.\tsad"]
    for split in ("train", "dev", "test"):
        (root / f"IEMOCAP_{split}.txt").write_text("\n\n".join(["\n".join(turns)] * 3) + "\n")
    return root


def test_28_classes_map_onto_smaller_sets_through_closer_labels_then_ekman_then_a_catch_all():
    iemocap, isear, emocontext = (get_taxonomy(n) for n in ("iemocap", "isear", "emocontext"))
    assert GO.convert("excitement", iemocap) == "excited" and GO.convert("joy", iemocap) == "happy"
    assert GO.convert("annoyance", iemocap) == "frustrated" and GO.convert("anger", iemocap) == "angry"
    assert GO.convert("remorse", isear) == "guilt" and GO.convert("embarrassment", isear) == "shame"
    assert GO.convert("neutral", isear) is None and GO.convert("surprise", isear) is None
    assert GO.convert("neutral", emocontext) == GO.convert("fear", emocontext) == "others"
    assert GO.convert("grief", emocontext) == "sad"
    assert get_taxonomy("meld").convert("surprise", get_taxonomy("emorynlp")) is None  # no catch-all there


def test_a_single_label_set_takes_the_mapped_label_the_rater_scored_highest():
    scores = {"scores": {"joy": 0.3, "sadness": 0.8}}
    ex = Example("x", "fine, thanks", ["joy", "sadness"], "goemotions", metadata=scores)
    isear = get_taxonomy("isear")
    assert example_items([ex], isear)[0].label == isear.index("sadness")
    plain = Example("y", "fine, thanks", ["joy", "sadness"], "goemotions")
    assert example_items([plain], isear)[0].label == isear.index("joy")  # no scores: the first in label order


def test_examples_without_an_equivalent_are_counted_or_refused():
    examples = [Example("a", "hm", ["neutral"], "goemotions"), Example("b", "yay", ["joy"], "goemotions")]
    unmapped: Counter = Counter()
    items = example_items(examples, get_taxonomy("isear"), unmapped)
    assert [i.dialogue_id for i in items] == ["b"] and unmapped == {"neutral": 1}
    with pytest.raises(ConfigError, match="Example a: labels \\['neutral'\\] have no isear equivalent"):
        example_items(examples, get_taxonomy("isear"))


def test_taxonomy_files_are_checked_for_also_and_catch_all(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nlabels:\n  - {name: a, catch_all: true}\n  - {name: b, catch_all: true}\n")
    with pytest.raises(ConfigError, match="two catch_all labels: a, b"):
        get_taxonomy(bad)
    bad.write_text("name: t\nlabels:\n  - {name: a, also: joy}\n")
    with pytest.raises(ConfigError, match="has `also` 'joy'; expected a list"):
        get_taxonomy(bad)


@pytest.mark.parametrize("benchmark", ["isear", "emocontext", "iemocap"])
def test_pillars_examples_pretrain_for_tasks_with_fewer_labels(benchmark, tiny_bert, tmp_path):
    root = {
        "isear": lambda: write_isear(tmp_path / "isear.csv"),
        "emocontext": lambda: write_emocontext(tmp_path / "emocontext"),
        "iemocap": lambda: write_iemocap(tmp_path / "iemocap"),
    }[benchmark]()
    config = RunConfig(
        benchmark=benchmark,
        model="utterance",
        regime="synthetic->real",
        synthetic=str(pillars(tmp_path / "pillars.jsonl")),
        backbone=str(tiny_bert),
        max_length=16,
        data_root=str(root),
        save_model=False,
        training=TrainingArguments(epochs=1, pretrain_epochs=1, batch_size=8),
    )
    result = run(config, tmp_path / "run")
    data, test = result["data"], result["test"]
    unmapped = {
        # ISEAR has no neutral and no surprise class (nor confusion, curiosity, realization: Ekman's surprise)
        "isear": {"neutral": 2, "surprise": 2, "confusion": 1, "curiosity": 1, "realization": 1},
        "emocontext": {},  # everything without an equivalent is `others`
        # IEMOCAP's six classes have no fear, disgust or surprise
        "iemocap": {"surprise": 2, "confusion": 1, "curiosity": 1, "realization": 1}
        | {"disgust": 1, "fear": 1, "nervousness": 1},
    }[benchmark]
    assert data["synthetic_unmapped"] == unmapped
    assert data["n_synthetic"] == 30 - sum(unmapped.values())
    metric = {"isear": "macro_f1", "emocontext": "micro_f1_happy_sad_angry", "iemocap": "weighted_f1"}[benchmark]
    assert 0.0 <= test[metric] <= 1.0 and "accuracy" in test
    assert [s for s in result["stages"]] == ["pretrain", "train"]


def test_an_experiment_reads_each_task_from_its_own_copy(tiny_bert, tmp_path):
    from emosynth.experiment.config import ExperimentConfig
    from emosynth.experiment.runner import run_experiment

    write_isear(tmp_path / "isear.csv")
    write_emocontext(tmp_path / "emocontext")
    pillars(tmp_path / "pillars.jsonl")
    config = {
        "name": "tasks",
        "benchmarks": ["isear", "emocontext"],
        "regimes": ["real", "synthetic->real"],
        "synthetic": {b: {"pillars": "pillars.jsonl"} for b in ("isear", "emocontext")},
        "seeds": [0],
        "training": {"epochs": 1, "pretrain_epochs": 1, "batch_size": 8},
        "max_length": {"utterance": 16},
        "backbone": str(tiny_bert),
        "data_root": {"isear": "isear.csv", "emocontext": "emocontext"},  # relative to the config, like datasets
    }
    (tmp_path / "config.yaml").write_text(json.dumps(config))
    loaded = ExperimentConfig.load(tmp_path / "config.yaml")
    assert loaded.root_of("isear") == str(tmp_path / "isear.csv")
    rows, _ = run_experiment(loaded, tmp_path / "exp")
    metrics = {(r["benchmark"], r["treatment"]): r["metric"] for r in rows}
    assert metrics == {
        ("isear", "real"): "macro_f1",
        ("isear", "synthetic->real:pillars"): "macro_f1",
        ("emocontext", "real"): "micro_f1_happy_sad_angry",
        ("emocontext", "synthetic->real:pillars"): "micro_f1_happy_sad_angry",
    }
    assert ExperimentConfig.load(tmp_path / "exp" / "config.yaml").root_of("emocontext") == str(tmp_path / "emocontext")
    (tmp_path / "config.yaml").write_text(json.dumps(config | {"data_root": {"iemocap": "isear.csv"}}))
    with pytest.raises(ConfigError, match="data_root names 'iemocap', which is not in benchmarks"):
        ExperimentConfig.load(tmp_path / "config.yaml")
