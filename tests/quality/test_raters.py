"""Soft-label raters: a real (small) multi-label classifier's scores, and its ceiling on labelled examples."""

import pytest

from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy

torch = pytest.importorskip("torch")
GO = get_taxonomy("goemotions")
LINES = [("I am so happy today", ("joy",)), ("I am so angry today", ("anger",)), ("Happy and angry", ("joy", "anger"))]


@pytest.fixture(scope="module")
def rater(tmp_path_factory):
    """A MiniLM multi-label GoEmotions classifier that learned three lines, loaded as a rater."""
    from emosynth.quality.raters import ClassifierRater
    from emosynth.train.args import TrainingArguments
    from emosynth.train.items import example_items
    from emosynth.train.loop import Trainer
    from emosynth.train.models import build_model

    torch.manual_seed(0)
    model = build_model("utterance", list(GO.labels), None, 32, multi_label=True)
    examples = [Example(str(k), t, list(labs), "goemotions") for k, (t, labs) in enumerate(LINES * 8)]
    args = TrainingArguments(epochs=15, learning_rate=1e-3, batch_size=8, seed=1)
    Trainer(model, args, example_items(examples, GO), None, benchmark="goemotions").train()
    path = tmp_path_factory.mktemp("rater") / "model"
    model.save(path)
    return ClassifierRater(str(path))


def test_a_classifier_rates_every_label_and_an_utterance_model_ignores_context(rater):
    rows = rater.rate([Example("a", "I am so happy today", [], "goemotions"), Example("b", "Happy and angry", [], "")])
    assert len(rows) == 2 and all(len(r) == 28 and all(0 <= s <= 1 for s in r) for r in rows)
    joy, anger = GO.index("joy"), GO.index("anger")
    assert rows[0][joy] > 0.5 > rows[0][anger] and rows[1][joy] > 0.5 and rows[1][anger] > 0.5
    assert rater.taxonomy == GO and rater.reads_context is False
    with_context = rater.rate([Example("a", "I am so happy today", [], "goemotions", "It rained all day.")])
    assert with_context[0] == pytest.approx(rows[0])


def test_the_ceiling_is_macro_f1_and_recall_on_a_label_balanced_sample(rater):
    from emosynth.quality.raters import balanced_examples, rater_ceiling

    real = [Example(f"r{k}", t, list(labs), "goemotions") for k, (t, labs) in enumerate(LINES * 4)]
    real.append(Example("m", "so happy", ["joy"], "meld"))  # another label set: mapped into the rater's
    assert len(balanced_examples(real, ["joy", "anger"], per_label=2, seed=0)) <= 4
    ceiling = rater_ceiling(rater, real, per_label=3, threshold=0.5)
    assert ceiling["recall_per_label"]["joy"] == ceiling["recall_per_label"]["anger"] == 1.0
    assert set(ceiling["recall_per_label"]) == {"joy", "anger"}  # the labels the sample has
    assert ceiling["macro_f1"] == 1.0 and ceiling["examples"] <= 7
