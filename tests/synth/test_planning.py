import json
import random
from collections import Counter
from importlib import resources

from emosynth.records import Dialogue, Turn
from emosynth.synth.planning import TransitionModel, default_transitions, speaker_order
from emosynth.taxonomy import get_taxonomy

from ..conftest import needs_data

MELD = get_taxonomy("meld")


def dlg(*emotions):
    return Dialogue("d", [Turn("A", "x", e) for e in emotions], "meld")


def test_fit_counts_first_emotions_and_transitions():
    model = TransitionModel.fit([dlg("joy", "joy", "anger"), dlg("anger", "joy")], MELD)
    assert model.initial["joy"] == 1 and model.initial["anger"] == 1
    assert model.transitions["joy"]["joy"] == 1 and model.transitions["joy"]["anger"] == 1
    assert model.transitions["anger"]["joy"] == 1 and model.transitions["neutral"]["joy"] == 0


def test_samples_follow_the_chain():
    model = TransitionModel.fit([dlg("joy", "anger", "joy", "anger")] * 50, MELD)
    model.smoothing = 0.0
    seq = model.sample(8, random.Random(0))
    assert seq == ["joy", "anger"] * 4


def test_sample_with_always_contains_the_target():
    model = default_transitions(MELD)
    rng = random.Random(1)
    assert all("disgust" in model.sample_with(4, "disgust", rng) for _ in range(200))


def test_speaker_order_uses_everyone_and_never_repeats_a_speaker():
    rng = random.Random(3)
    for n in range(3, 12):
        order = speaker_order(["A", "B", "C"], n, rng)
        assert len(order) == n and set(order) == {"A", "B", "C"}
        assert all(a != b for a, b in zip(order, order[1:]))


@needs_data
def test_shipped_statistics_equal_a_fit_on_the_real_train_splits():
    from emosynth.data.emorynlp import read_emorynlp
    from emosynth.data.meld import read_meld

    for name, dialogues in [("meld", read_meld("train")), ("emorynlp", read_emorynlp("train"))]:
        shipped = json.loads(resources.files("emosynth").joinpath(f"resources/transitions/{name}.json").read_text())
        fitted = TransitionModel.fit(dialogues, get_taxonomy(name)).to_dict()
        assert shipped["initial"] == fitted["initial"] and shipped["transitions"] == fitted["transitions"]
    assert sum(shipped["initial"].values()) == 659  # EmoryNLP train scenes


def test_natural_plans_reproduce_the_benchmark_label_distribution():
    model = default_transitions(MELD)
    rng = random.Random(0)
    counts = Counter(e for _ in range(2000) for e in model.sample(8, rng))
    share = counts["neutral"] / sum(counts.values())
    assert 0.40 < share < 0.52  # MELD train: 47% neutral
