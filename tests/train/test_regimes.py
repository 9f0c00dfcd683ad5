import json
import subprocess
import sys

import pytest

from emosynth.data.export import export_dialogues
from emosynth.data.io import JsonlWriter
from emosynth.errors import ConfigError
from emosynth.train.args import TrainingArguments
from emosynth.train.regimes import RunConfig, run

from .test_sequence import toy_dialogues


@pytest.fixture
def meld_like(tmp_path):
    """A MELD-format benchmark folder and a synthetic JSONL, made of the toy dialogues."""
    root = tmp_path / "meld"
    for split, n in (("train", 12), ("dev", 6), ("test", 6)):
        export_dialogues(toy_dialogues(n), root / f"{split}_sent_emo.csv", "meld-csv")
    synthetic = tmp_path / "synthetic.jsonl"
    with JsonlWriter(synthetic) as w:
        for d in toy_dialogues(9):
            w.write(d.to_dict())
    return root, synthetic


@pytest.mark.parametrize("regime", ["real", "synthetic->real", "mixed", "synthetic"])
def test_each_regime_writes_results_and_a_model(tiny_bert, meld_like, tmp_path, regime):
    root, synthetic = meld_like
    args = TrainingArguments(epochs=2, learning_rate=1e-3, batch_size=8)
    config = RunConfig(
        benchmark="meld",
        model="utterance",
        regime=regime,
        synthetic=None if regime == "real" else str(synthetic),
        seed=3,
        backbone=str(tiny_bert),
        max_length=32,
        data_root=str(root),
        training=args,
    )
    result = run(config, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["regime"] == regime and saved["seed"] == 3 and 0 <= saved["weighted_f1"] <= 1
    assert saved["data"]["n_test"] == 18 and saved["data"]["n_synthetic"] == (0 if regime == "real" else 27)
    assert ("pretrain" in result["stages"]) == (regime == "synthetic->real")
    assert result["stages"]["train"]["train_examples_per_s"] > 0
    assert (tmp_path / "run" / "model" / "config.json").exists()


def test_regime_without_synthetic_data_is_refused():
    with pytest.raises(ConfigError, match="regime 'mixed' needs synthetic data"):
        RunConfig.create(benchmark="meld", model="utterance", regime="mixed")
    with pytest.raises(ConfigError, match="training.epochs: Input should be greater than or equal to 1"):
        RunConfig.create(benchmark="meld", model="utterance", training={"epochs": 0})


def test_cli_train_then_predict_a_dialogue_from_stdin(tiny_bert, meld_like, tmp_path):
    root, _ = meld_like
    run_dir = tmp_path / "cli-run"
    cmd = [sys.executable, "-m", "emosynth"]
    subprocess.run(
        [
            *cmd,
            "train",
            "--model",
            "context",
            "--benchmark",
            "meld",
            "--data-root",
            str(root),
            "--backbone",
            str(tiny_bert),
            "--epochs",
            "1",
            "--max-length",
            "32",
            "--threads",
            "1",
            "--no-progress",
            "-o",
            str(run_dir),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert json.loads((run_dir / "results.json").read_text())["config"]["training"]["threads"] == 1
    dialogue = {"turns": [{"speaker": "anna", "text": "i am so happy today"}, {"speaker": "ben", "text": "what"}]}
    out = subprocess.run(
        [*cmd, "predict", str(run_dir / "model")],
        input=json.dumps(dialogue),
        text=True,
        capture_output=True,
        check=True,
        timeout=300,
    )
    labels = [t["emotion"] for t in json.loads(out.stdout)["turns"]]
    assert len(labels) == 2 and set(labels) <= {"neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear"}
    bad = subprocess.run(
        [*cmd, "predict", str(run_dir / "model")], input="not json", text=True, capture_output=True, timeout=300
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: stdin: expected")
    # evaluate (given the run folder: its model/ is taken): the saved model scores the test split exactly as the
    # run did when it finished
    scored = subprocess.run(
        [*cmd, "evaluate", str(run_dir), "--benchmark", "meld", "--data-root", str(root)],
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert scored.returncode == 0, scored.stderr
    metrics, results = json.loads(scored.stdout), json.loads((run_dir / "results.json").read_text())
    assert metrics["weighted_f1"] == results["test"]["weighted_f1"]
    assert metrics["confusion_matrix"] == results["test"]["confusion_matrix"]
    missing = subprocess.run(
        [*cmd, "evaluate", str(tmp_path / "nothing"), "--data-root", str(root)], text=True, capture_output=True
    )
    assert missing.returncode == 2 and "not a saved emosynth classifier" in missing.stderr


def test_train_dialogues_trains_on_the_dialogues_a_knowledge_pass_with_that_sample_asked_about(tiny_bert, tmp_path):
    from emosynth.data.meld import read_meld
    from emosynth.records import Dialogue, Turn
    from emosynth.synth.knowledge import utterances

    root = tmp_path / "meld"
    emotions = ("joy", "anger", "neutral")
    for split, n in (("train", 10), ("dev", 3), ("test", 3)):
        dialogues = [
            Dialogue(f"{split}{k}", [Turn("ben", f"{split} talk {k}, line {j}", emotions[j]) for j in range(3)], "meld")
            for k in range(n)
        ]
        export_dialogues(dialogues, root / f"{split}_sent_emo.csv", "meld-csv")
    # the knowledge pass of `emosynth knowledge meld:dev meld:test` and `meld:train --dialogues 4`
    asked = [*utterances(read_meld("train", root), 4), *utterances(read_meld("dev", root) + read_meld("test", root))]
    knowledge = tmp_path / "knowledge.jsonl"
    knowledge.write_text("".join(json.dumps({"text": t, "relations": {"xReact": "fine"}}) + "\n" for _, t in asked))
    config = RunConfig.create(
        benchmark="meld",
        model="todkat",
        train_dialogues=4,
        knowledge=str(knowledge),
        backbone=str(tiny_bert),
        data_root=str(root),
        save_model=False,
        training=TrainingArguments(epochs=1, batch_size=4),
    )
    saved = run(config, tmp_path / "run")["data"]
    assert saved["n_train"] == 12 and saved["n_train_available"] == 30
    assert saved["knowledge"]["coverage"] == {"train": 1.0, "dev": 1.0, "test": 1.0, "synthetic": None}
    with pytest.raises(ConfigError, match="goemotions has none"):
        RunConfig.create(benchmark="goemotions", model="utterance", train_dialogues=4)
