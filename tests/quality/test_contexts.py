"""Context personalization of contextual examples, on a fixture whose answers are worked out by hand."""

from pathlib import Path

import pytest

from emosynth.quality.contexts import context_personalization, contexts_by_theme, theme
from emosynth.quality.corpus import load_corpus
from emosynth.quality.diversity import SentenceEncoder
from emosynth.records import Example

PILLARS = Path(__file__).parents[1] / "fixtures" / "pillars" / "examples.jsonl"


def test_a_theme_is_the_target_emotion_else_the_first_label():
    examples = load_corpus(PILLARS).examples
    assert [theme(e) for e in examples] == ["joy", "joy", "neutral", "neutral", "anger", "anger", "boredom"]
    # p-005 and p-006 have no context: they are in no theme's contexts
    assert {k: [e.id for e in v] for k, v in contexts_by_theme(examples).items()} == {
        "joy": ["p-000/0", "p-001/0"],
        "neutral": ["p-002/0", "p-003/0"],
        "anger": ["p-004/0"],
    }


def test_near_duplicate_contexts_within_a_theme():
    result = context_personalization(load_corpus(PILLARS).examples)
    # joy: the two race contexts differ only in their last word (both count); neutral: two different contexts;
    # anger: a single context, counted but not compared -> 2 of the 4 compared contexts
    assert result["contexts"] == 5 and result["themes"] == 3
    assert result["themes_compared"] == 2 and result["contexts_compared"] == 4
    assert result["near_duplicate_rate"] == 0.5
    assert result["characters_per_theme"] == 2.0  # Anna and Ben; Carl and Dora
    assert "semantic_diversity" not in result  # only with an encoder
    assert context_personalization([Example("a", "hi", ["joy"], "goemotions")]) is None


def test_semantic_diversity_of_contexts_within_a_theme(tiny_bert):
    same = "i am so happy today"
    examples = [
        Example("a", "yay", ["joy"], "goemotions", same, metadata={"target": "joy", "character": "Anna"}),
        Example("b", "hooray", ["joy"], "goemotions", same, metadata={"target": "joy", "character": "Ben"}),
        Example("c", "grr", ["anger"], "goemotions", "hello", metadata={"target": "anger"}),
        Example("d", "argh", ["anger"], "goemotions", "the weather is okay", metadata={"target": "anger"}),
    ]
    result = context_personalization(examples, SentenceEncoder(str(tiny_bert)))
    per = result["semantic_diversity"]["per_theme"]
    assert per["joy"] == pytest.approx(0.0, abs=1e-4) and per["anger"] > 0.01
    assert result["semantic_diversity"]["mean"] == pytest.approx((per["joy"] + per["anger"]) / 2, abs=1e-4)
    assert result["near_duplicate_rate"] == 0.5  # the two identical joy contexts
