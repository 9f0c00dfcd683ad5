"""Utterance-level benchmarks: examples as items, and the multi-label (sigmoid) path on GoEmotions' format."""

import json
from pathlib import Path

import numpy as np
import pytest

from emosynth.data.benchmarks import load_split
from emosynth.data.isear import read_isear
from emosynth.errors import ConfigError
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy
from emosynth.train.args import TrainingArguments
from emosynth.train.inference import multi_hot, tune_thresholds
from emosynth.train.items import example_items
from emosynth.train.loop import Trainer
from emosynth.train.models import build_model, load_model
from emosynth.train.regimes import RunConfig, run

GO = get_taxonomy("goemotions")
FIXTURES = Path(__file__).parents[1] / "fixtures"
LINES = [("i am so happy today", ("joy",)), ("i am so angry today", ("anger",)), ("happy angry", ("joy", "anger"))]


def write_goemotions(root: Path, n: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "emotions.txt").write_text("\n".join(GO.labels) + "\n")
    for split in ("train", "dev", "test"):
        rows = [LINES[k % 3] for k in range(n)]
        text = "".join(
            f"{t}\t{','.join(str(GO.index(lab)) for lab in labs)}\tid{k}\n" for k, (t, labs) in enumerate(rows)
        )
        (root / f"{split}.tsv").write_text(text)


def test_example_items_keep_every_label_of_a_multi_label_set():
    ex = [
        Example("a", "wow", ["joy", "surprise"], "goemotions"),
        Example("b", "hm", ["neutral"], "goemotions", "before"),
    ]
    items = example_items(ex, GO)
    assert items[0].label == tuple(sorted((GO.index("joy"), GO.index("surprise"))))
    assert items[1].history == [("", "before")] and items[1].label == (GO.index("neutral"),)
    meld = example_items([Example("c", "yay", ["joy", "surprise"], "goemotions")], get_taxonomy("meld"))
    assert meld[0].label == 1  # single-label set: the mapped label that comes first in its order (joy)
    with pytest.raises(ConfigError, match="have no emorynlp equivalent"):
        example_items([Example("d", "hm", ["surprise"], "goemotions")], get_taxonomy("emorynlp"))
    assert multi_hot([(0, 2), 1], 3).tolist() == [[1, 0, 1], [0, 1, 0]]


def test_contextual_examples_read_as_a_scene_with_the_rater_scores_as_soft_targets():
    meta = {"character": "Tom", "character_description": "Tom, a miller's son", "scores": {"joy": 0.8, "pride": 0.4}}
    scene = Example("e", "We did it!", ["joy", "pride"], "goemotions", "The mill runs again.", metadata=meta)
    [item] = example_items([scene], GO)
    assert item.history == [("", "Tom, a miller's son"), ("", "The mill runs again.")] and item.speaker == "Tom"
    assert len(item.soft) == 28 and item.soft[GO.index("joy")] == 0.8 and item.soft[GO.index("pride")] == 0.4
    assert sum(item.soft) == pytest.approx(1.2)
    [plain] = example_items([Example("f", "We did it!", ["joy"], "goemotions", metadata=meta)], GO)
    assert plain.history == [] and plain.speaker == ""  # context-less: the utterance alone
    # a single-label set takes the hard label; scores are for multi-label training only
    assert example_items([scene], get_taxonomy("meld"))[0].soft is None


def test_thresholds_are_tuned_per_label_for_the_best_f1():
    scores = np.array([[0.9, 0.02, 0.4], [0.6, 0.03, 0.1], [0.2, 0.01, 0.45], [0.1, 0.2, 0.05]])
    gold = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    joy, rare, third = tune_thresholds(scores, gold)
    assert 0.2 < joy <= 0.6  # every cut-off between the negatives and the positives separates them: the one nearest 0.5
    assert joy == 0.5 and rare == 0.2 and third == 0.4
    assert tune_thresholds(scores, np.zeros_like(gold)) == [0.5, 0.5, 0.5]  # a label never seen keeps 0.5
    assert tune_thresholds(scores[:, :1], gold[:, :1], grid=[0.15, 0.7]) == [0.15]  # F1 0.8 beats 0.67 at 0.7


def test_soft_targets_train_towards_the_scores(tiny_bert):
    """A text the rater scored 0.25 for joy: BCE on the score settles near 0.25, the hard label near 1."""
    meta = {"scores": {"joy": 0.25}}
    examples = [Example(str(k), "happy today", ["joy"], "goemotions", metadata=meta) for k in range(16)]
    items = example_items(examples, GO)
    joy = {}
    for soft in (True, False):
        model = build_model("utterance", list(GO.labels), str(tiny_bert), 16, multi_label=True)
        args = TrainingArguments(epochs=40, learning_rate=5e-3, batch_size=8, soft_targets=soft, warmup_ratio=0)
        trainer = Trainer(model, args, items, None, benchmark="goemotions")
        trainer.train()
        from emosynth.train.inference import probabilities

        joy[soft] = float(probabilities(model, items[:1])[0, GO.index("joy")])
    assert abs(joy[True] - 0.25) < 0.1 and joy[False] > 0.9, joy


def test_split_loaders_for_benchmarks_read_from_your_own_copy(tmp_path):
    isear = {s: load_split("isear", s, FIXTURES / "isear" / "isear.csv") for s in ("train", "dev", "test")}
    ids = [ex.id for s in isear.values() for ex in s]
    # the seeded stratified split: every example in exactly one split (4 fixture rows, one per label: all train)
    assert sorted(ids) == sorted(ex.id for ex in read_isear(FIXTURES / "isear" / "isear.csv")) == sorted(set(ids))
    assert isear == {s: load_split("isear", s, FIXTURES / "isear" / "isear.csv") for s in isear}
    with pytest.raises(ConfigError, match="emocontext is not shipped"):
        load_split("emocontext", "train")
    assert load_split("emocontext", "train", FIXTURES / "emocontext")[1].labels == ["angry"]


def test_multi_label_classifier_learns_two_labels_at_once_and_reloads(tmp_path):
    # The packaged MiniLM: a 2-layer random encoder does not learn this in a few epochs.
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    lines = [
        ("I am so happy today", ("joy",)),
        ("I am so angry today", ("anger",)),
        ("Happy and angry", ("joy", "anger")),
    ]
    model = build_model("utterance", list(GO.labels), None, 32, multi_label=True)
    items = example_items([Example(str(k), t, list(labs), "goemotions") for k, (t, labs) in enumerate(lines * 8)], GO)
    args = TrainingArguments(epochs=15, learning_rate=1e-3, batch_size=8, seed=1)
    trainer = Trainer(model, args, items, None, benchmark="goemotions")
    trainer.train()
    pred = trainer.predict(items[:3])
    assert pred.shape == (3, 28)
    joy, anger = GO.index("joy"), GO.index("anger")
    assert pred[2, joy] == 1 and pred[2, anger] == 1 and pred[0, anger] == 0 and pred[1, joy] == 0
    metrics = trainer.evaluate(items)
    assert metrics["per_class"]["joy"]["f1"] == 1.0 and metrics["per_class"]["anger"]["f1"] == 1.0
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert again.multi_label and (Trainer(again, args, []).predict(items[:3]) == pred).all()
    with pytest.raises(ConfigError, match="compm is single-label"):
        build_model("compm", list(GO.labels), None, 32, multi_label=True)


def test_goemotions_run_reports_macro_f1(tiny_bert, tmp_path):
    write_goemotions(tmp_path / "go", 12)
    config = RunConfig(
        benchmark="goemotions",
        model="utterance",
        backbone=str(tiny_bert),
        max_length=32,
        data_root=str(tmp_path / "go"),
        training=TrainingArguments(epochs=1, batch_size=8),
    )
    result = run(config, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["macro_f1"] == result["macro_f1"] and 0 <= saved["macro_f1"] <= 1
    assert set(saved["test"]["per_class"]) == set(GO.labels) and "micro_f1" in saved["test"]
    saved_model = json.loads((tmp_path / "run" / "model" / "emosynth.json").read_text())
    assert saved_model["multi_label"] is True
    # per-label thresholds tuned on dev are saved with the model and used by whoever loads it
    assert (
        len(saved_model["thresholds"]) == 28
        and load_model(tmp_path / "run" / "model").thresholds == saved_model["thresholds"]
    )
    assert np.isfinite(saved["weighted_f1"])


def test_a_saved_model_gets_its_thresholds_tuned_on_a_split(tiny_bert, tmp_path):
    from emosynth.train.inference import evaluate_on

    write_goemotions(tmp_path / "go", 12)
    model = build_model("utterance", list(GO.labels), str(tiny_bert), 16, multi_label=True)
    model.save(tmp_path / "m")  # as saved before thresholds were tuned: none
    assert load_model(tmp_path / "m").thresholds is None
    tuned = evaluate_on(tmp_path / "m", "goemotions", "dev", str(tmp_path / "go"), tune=True)
    saved = load_model(tmp_path / "m").thresholds
    assert saved == [tuned["thresholds"][label] for label in GO.labels]
    # labels dev never has keep 0.5 (joy and anger get the cut-off with the best F1 on it)
    assert {saved[GO.index(k)] for k in GO.labels if k not in ("joy", "anger")} == {0.5}
    again = evaluate_on(tmp_path / "m", "goemotions", "dev", str(tmp_path / "go"))
    assert again["macro_f1"] == tuned["macro_f1"] and "thresholds" not in again
    with pytest.raises(ConfigError, match="multi-label models only"):
        build_model("utterance", ["a", "b"], str(tiny_bert), 16).save(tmp_path / "single")
        evaluate_on(tmp_path / "single", "goemotions", "dev", str(tmp_path / "go"), tune=True)
