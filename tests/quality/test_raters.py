"""Soft-label raters: a real (small) multi-label classifier's scores, and its ceiling on labelled examples."""

import pytest

from emosynth.errors import ConfigError
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


def test_a_rater_with_tuned_thresholds_is_measured_at_them(rater):
    from emosynth.quality.raters import rater_ceiling

    real = [Example(f"r{k}", t, list(labs), "goemotions") for k, (t, labs) in enumerate(LINES * 4)]
    rater.thresholds = [0.5] * 28
    rater.thresholds[GO.index("anger")] = 0.9999  # anger is then never made
    try:
        ceiling = rater_ceiling(rater, real, per_label=3, threshold=0.5)
    finally:
        rater.thresholds = None
    assert ceiling["recall_per_label"] == {"joy": 1.0, "anger": 0.0}
    assert ceiling["threshold"] == "per label, the rater's own"


@pytest.mark.slow
def test_an_llm_rates_examples_blind_with_shares_of_its_replies(smollm):
    from emosynth.quality.raters import LLMRater

    rater = LLMRater(smollm, GO, samples=2)
    examples = [
        Example("a", "Thank you so much for helping me!", [], "goemotions"),
        Example(
            "b", "We are lost.", [], "goemotions", "The children left the path at night.", metadata={"character": "Ann"}
        ),
    ]
    rows = rater.rate(examples)
    assert len(rows) == 2 and all(len(r) == 28 for r in rows)
    # each reply names 1-3 labels under the schema: every score is a share of the 2 replies, and each row has some
    assert all(s in (0.0, 0.5, 1.0) for r in rows for s in r) and all(1 <= sum(r) <= 3 for r in rows)
    assert len(rater.completions) == 4 and rater.identity.startswith("llm:")
    prompt = rater.request(examples[1], 0).messages[-1]["content"]
    assert "Situation: The children" in prompt and 'Ann says: "We are lost."' in prompt and "27: neutral" in prompt


def test_an_llm_reply_that_is_not_a_list_of_labels_names_none():
    from emosynth.quality.raters import LLMRater

    rater = LLMRater(None, GO)
    assert rater._labels('{"labels": [3, -1, 2.5, true, 99, 4]}') == [3]  # at most 3 read; only valid numbers kept
    assert rater._labels('{"labels": 3}') == [] and rater._labels("no idea") == []


class Constant:
    """A rater that always gives the same row (stands in for a member of the combination under test)."""

    name, reads_context = "constant", False
    taxonomy = GO

    def __init__(self, joy, thresholds=None):
        self.joy, self.thresholds, self.identity = joy, thresholds, f"constant-{joy}"

    def rate(self, examples):
        return [[self.joy if label == "joy" else 0.0 for label in GO.labels] for _ in examples]


def test_combined_raters_average_scores_and_cut_offs():
    from emosynth.quality.raters import CombinedRater

    tuned = [0.1] * 28
    combined = CombinedRater([Constant(0.9), Constant(0.2, tuned)], threshold=0.5)
    [row] = combined.rate([Example("a", "yay", [], "goemotions")])
    assert row[GO.index("joy")] == pytest.approx(0.55) and combined.thresholds[0] == pytest.approx(0.3)
    assert combined.identity == "constant-0.9 + constant-0.2" and combined.completions == []
    with pytest.raises(ConfigError, match="same label set"):
        meld = Constant(0.5)
        meld.taxonomy = get_taxonomy("meld")
        CombinedRater([Constant(0.9), meld], threshold=0.5)
