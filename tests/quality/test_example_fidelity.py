"""`emosynth verify` on utterance-level examples: a saved multi-label classifier confirms (or not) their labels."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from emosynth.data.io import read_examples
from emosynth.errors import ConfigError
from emosynth.judge import labels_made
from emosynth.llm.base import Completion, LLMBackend
from emosynth.quality.example_fidelity import ceiling_source, example_agreement, written_for
from emosynth.quality.verify import VerifySettings, uses_llm
from emosynth.taxonomy import get_taxonomy

from ..conftest import SHARED

torch = pytest.importorskip("torch")
GO = get_taxonomy("goemotions")
PILLARS = Path(__file__).parents[1] / "fixtures" / "pillars" / "examples.jsonl"


@pytest.fixture(scope="module")
def joy_only(tiny_bert, tmp_path_factory):
    """A real saved multi-label GoEmotions classifier whose own thresholds make joy always and nothing else."""
    from emosynth.train.sequence import SequenceClassifier

    model = SequenceClassifier(tiny_bert, list(GO.labels), kind="utterance", max_length=32, multi_label=True)
    model.thresholds = [0.0 if label == "joy" else 1.01 for label in GO.labels]  # sigmoid scores lie in [0, 1]
    path = tmp_path_factory.mktemp("clf") / "model"
    model.save(path)
    return path


def test_agreement_counts_confirmed_targets_and_recall_per_label(joy_only):
    from emosynth.quality.raters import ClassifierRater

    examples = read_examples(PILLARS)
    rater = ClassifierRater(str(joy_only))
    judged = labels_made(rater, examples, threshold=0.3)
    assert judged == [{"joy"}] * 7  # its own thresholds, not 0.3
    assert [written_for(e) for e in examples] == ["joy", "joy", "neutral", "neutral", "anger", "anger", "boredom"]
    result = example_agreement(examples, judged, GO)
    # targets: joy twice confirmed; neutral, neutral, anger, anger not; boredom has no GoEmotions equivalent
    assert result["n"] == 6 and result["confirmed_count"] == 2 and result["confirmed"] == pytest.approx(1 / 3, 1e-3)
    assert result["unmappable"] == 1
    assert result["per_label"] == {"anger": 0.0, "annoyance": 0.0, "excitement": 0.0, "joy": 1.0, "neutral": 0.0}
    assert result["macro"] == 0.2 and result["micro"] == 0.25  # 2 of the 8 (example, label) pairs


def test_the_ceiling_is_taken_on_test_when_thresholds_were_tuned_on_dev():
    tuned = SimpleNamespace(name="classifier", taxonomy=GO, thresholds=[0.5] * 28)
    untuned = SimpleNamespace(name="classifier", taxonomy=GO, thresholds=None)
    llm = SimpleNamespace(name="llm", taxonomy=GO, thresholds=None)
    assert ceiling_source(tuned, None)[0] == "goemotions:test"
    assert ceiling_source(untuned, None) == ("goemotions:dev", "dev split: the classifier has no tuned thresholds")
    assert ceiling_source(llm, None) == ("goemotions:dev", "dev split: nothing was tuned on it")
    assert ceiling_source(tuned, "mine.jsonl") == ("mine.jsonl", "given")
    assert ceiling_source(SimpleNamespace(name="llm", taxonomy=get_taxonomy("meld"), thresholds=None), None)[0] is None


def test_examples_take_the_llm_only_when_asked_and_no_dialogue_filter(tmp_path):
    examples = read_examples(PILLARS)
    assert uses_llm(examples, None) is False and uses_llm(examples, True) is True
    with pytest.raises(ConfigError, match="filters dialogues only"):
        VerifySettings(drop_disagreeing=tmp_path / "out.jsonl").check(PILLARS)


def verify_cli(*args):
    cmd = [sys.executable, "-m", "emosynth", "verify", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_cli_verify_examples_reports_confirmation_next_to_the_ceiling(joy_only, tmp_path):
    out = tmp_path / "fid.json"
    run = verify_cli(
        PILLARS, "--classifier", joy_only, "--ceiling-from", PILLARS, "--ceiling-per-label", 1, "--json", out
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    entry = report["judges"]["classifier"]
    assert report["kind"] == "examples" and report["examples"] == 7
    assert entry["agreement"]["confirmed_count"] == 2 and entry["threshold"] == "per label, the classifier's own"
    ceiling = entry["ceiling"]
    assert ceiling["source"] == str(PILLARS) and ceiling["why"] == "given" and ceiling["split"] is None
    # every sampled example is judged joy alone; the boredom example has no label to score
    assert ceiling["recall_per_label"]["joy"] == 1.0 and ceiling["recall_per_label"]["neutral"] == 0.0
    assert run.stdout.startswith("classifier judge") and "target confirmed for 2 of 6 examples" in run.stdout
    unjudged = verify_cli(PILLARS, "--json", out)
    assert unjudged.returncode == 2 and "no judge: examples are judged by a classifier" in unjudged.stderr


@pytest.mark.slow
def test_the_llm_rates_examples_beside_the_classifier_and_combined_with_it_when_asked(smollm, joy_only):
    from emosynth.quality.verify import verify_examples

    settings = VerifySettings(ceiling_from=str(PILLARS), ceiling_per_label=1)
    report = verify_examples(read_examples(PILLARS), settings, joy_only, smollm)
    assert set(report["judges"]) == {"classifier", "llm", "combined"} and report["kind"] == "examples"
    llm = report["judges"]["llm"]
    assert llm["model"].startswith("llm:") and llm["agreement"]["n"] == 6 and llm["threshold"] == 0.3
    assert report["judges"]["classifier"]["agreement"]["confirmed_count"] == 2  # the classifier's entry is kept
    combined = report["judges"]["combined"]
    assert combined["model"] == f"{report['judges']['classifier']['model']} + {llm['model']}"
    assert combined["threshold"] == "per label, the mean of its raters' cut-offs"
    # joy's cut-off is the mean of 0.0 (the classifier's) and 0.3: half the classifier's sigmoid alone passes it
    assert combined["agreement"]["per_label"]["joy"] == 1.0 and combined["ceiling"]["recall_per_label"]["joy"] == 1.0


@pytest.mark.skipif(SHARED is None or not (SHARED / "goemotions").is_dir(), reason="no GoEmotions here")
def test_cli_verify_examples_measures_a_tuned_classifier_on_goemotions_test(joy_only, tmp_path):
    out = tmp_path / "fid.json"
    run = verify_cli(PILLARS, "--classifier", joy_only, "--ceiling-per-label", 1, "--json", out)
    assert run.returncode == 0, run.stderr
    ceiling = json.loads(out.read_text())["judges"]["classifier"]["ceiling"]
    assert ceiling["source"] == "goemotions:test" and ceiling["split"] == "test"
    assert ceiling["recall_per_label"]["joy"] == 1.0 and ceiling["examples"] <= 28
    assert "goemotions:test (test split: the classifier's thresholds were tuned on dev)" in run.stdout


class NamesJoy(LLMBackend):
    """Stands in for the LLM (the raters' assembly is under test): names joy (label 17) for every example."""

    name, model_id = "scripted", "names-joy"

    def complete(self, request):
        return Completion('{"labels": [17]}', "stop", 10, 5, self.model_id)


def test_a_classifier_of_another_label_set_and_the_llm_are_not_combined(tiny_bert, tmp_path):
    from emosynth.quality.verify import verify_examples
    from emosynth.train.sequence import SequenceClassifier

    meld = tmp_path / "meld"  # a MELD classifier rates GoEmotions examples through the mapping, alone
    SequenceClassifier(tiny_bert, list(get_taxonomy("meld").labels), kind="utterance", max_length=32).save(meld)
    settings = VerifySettings(ceiling_from=str(PILLARS), ceiling_per_label=1)
    report = verify_examples(read_examples(PILLARS), settings, meld, NamesJoy())
    assert set(report["judges"]) == {"classifier", "llm"}
    assert report["judges"]["llm"]["agreement"]["per_label"]["joy"] == 1.0
