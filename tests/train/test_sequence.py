import numpy as np
import torch

from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy
from emosynth.train.args import TrainingArguments
from emosynth.train.batching import length_grouped_batches
from emosynth.train.items import turn_items
from emosynth.train.loop import Trainer, inverse_frequency_weights
from emosynth.train.sequence import SequenceClassifier

MELD = get_taxonomy("meld")


def toy_dialogues(n=24):
    lines = [("i am so happy today", "joy"), ("i am so angry today", "anger"), ("the weather is okay", "neutral")]
    return [
        Dialogue(f"d{k}", [Turn("anna" if j % 2 else "ben", *lines[(k + j) % 3]) for j in range(3)], "meld")
        for k in range(n)
    ]


def test_turn_items_map_labels_and_keep_history():
    d = Dialogue("x", [Turn("A", "hi", "happy"), Turn("B", "grr", "frustrated"), Turn("A", "ok", "neutral")], "iemocap")
    items = turn_items([d], MELD)
    assert [MELD.labels[i.label] for i in items] == ["joy", "anger", "neutral"]
    assert items[2].history == [("A", "hi"), ("B", "grr")] and items[0].future == [("B", "grr"), ("A", "ok")]


def test_context_sequence_keeps_the_recent_past_and_marks_segments(tiny_bert):
    model = SequenceClassifier(tiny_bert, list(MELD.labels), kind="context", max_length=15)
    d = Dialogue(
        "x",
        [Turn("anna", "hello", "neutral"), Turn("ben", "what", "surprise"), Turn("anna", "i am so happy today", "joy")],
        "meld",
    )
    feats = model.featurize(turn_items([d], MELD))[2]
    tokens = model.tokenizer.convert_ids_to_tokens(feats["input_ids"])
    # 15 tokens: the current turn (7) + CLS/SEP/SEP leave room for "ben : what" but not also "anna : hello"
    assert tokens == ["[CLS]", "ben", ":", "what", "[SEP]", "anna", ":", "i", "am", "so", "happy", "today", "[SEP]"]
    assert feats["token_type_ids"] == [0] * 5 + [1] * 8


def test_length_grouped_batches_cover_every_index_once():
    lengths = list(np.random.default_rng(0).integers(1, 100, size=1000))
    batches = length_grouped_batches(lengths, 32, seed=3)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000)) and batches == length_grouped_batches(lengths, 32, seed=3)
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 10  # grouped: far below the ~96 spread of random batches


def test_inverse_frequency_weights():
    w = inverse_frequency_weights([0, 0, 0, 1], 3)
    assert np.allclose(w.numpy(), [4 / 9, 4 / 3, 1.0])


def test_trainer_learns_a_separable_task_and_saved_model_predicts_the_same(tiny_bert, tmp_path):
    for kind in ("utterance", "context"):
        torch.manual_seed(0)
        model = SequenceClassifier(tiny_bert, list(MELD.labels), kind=kind, max_length=32)
        items = turn_items(toy_dialogues(), MELD)
        args = TrainingArguments(epochs=20, learning_rate=3e-3, batch_size=8, warmup_ratio=0.1, seed=1)
        trainer = Trainer(model, args, items, items[:18], benchmark="meld")
        info = trainer.train()
        metrics = trainer.evaluate(items)
        assert metrics["accuracy"] >= 2 / 3, (kind, info["history"])  # chance is 1/3; seed 0 reaches 1.0 here
        assert set(metrics) >= {"weighted_f1", "macro_f1", "per_class", "confusion_matrix"}
        model.save(tmp_path / kind)
        loaded = SequenceClassifier.load(tmp_path / kind)
        again = Trainer(loaded, args, items).predict(items)
        assert (again == trainer.predict(items)).all()
