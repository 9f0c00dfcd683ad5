"""What becomes an example: filters on the text, then soft multi-labels from a rater that must confirm the target.

Filters, in order, each dropping with its reason: ``too_short`` / ``too_long`` (words), ``not_english``
(py3langid, on texts of 4 words or more: shorter ones are too short to tell), ``leakage`` (the text names its
target, ``resources/emotion_words.yaml``), ``duplicate`` (same words as an earlier example, case and punctuation
folded) and ``near_duplicate`` (estimated Jaccard of word 3-grams >= 0.8 with an earlier kept example, MinHash).

Soft labels: the rater scores every example on its label set (contextual examples with their context, context-less
ones without); the scores are kept (``metadata["scores"]``) and the labels are those scored at or above the
rater's own per-label thresholds (a classifier's, tuned on real dev data) or else ``threshold``, mapped into the
examples' label set through the taxonomy mappings. A rater label with no equivalent there is counted as
out-of-taxonomy, never dropped silently. An example whose target is not among its labels is dropped
(``target_not_confirmed``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from emosynth.judge import Rater, cutoffs
from emosynth.records import Character, Example, Passage
from emosynth.taxonomy import Taxonomy, names_label
from emosynth.text import near_duplicates, normalise, words

FILTER_REASONS = ("too_short", "too_long", "not_english", "leakage", "duplicate", "near_duplicate")


def _language(text: str) -> str:
    import py3langid

    return py3langid.classify(text)[0]


def text_problem(example: Example, min_words: int, max_words: int) -> str | None:
    """The first filter an example fails on its own (length, language, leakage), or None."""
    ws = words(example.text)
    if len(ws) < min_words:
        return "too_short"
    if len(ws) > max_words:
        return "too_long"
    if len(ws) >= 4 and _language(example.text) != "en":
        return "not_english"
    if names_label(set(ws), example.metadata["target"]):
        return "leakage"
    return None


def apply_filters(examples: list[Example], min_words: int, max_words: int) -> tuple[list[Example], Counter]:
    """The examples that pass every filter (in order) and the count of the others per reason."""
    dropped: Counter = Counter()
    passed, seen = [], set()
    for ex in examples:
        problem = text_problem(ex, min_words, max_words)
        if problem is None and normalise(ex.text) in seen:
            problem = "duplicate"
        if problem:
            dropped[problem] += 1
            continue
        seen.add(normalise(ex.text))
        passed.append(ex)
    kept, kept_ids = [], set()
    for i, (ex, similar) in enumerate(zip(passed, near_duplicates([e.text for e in passed]))):
        if any(j < i and j in kept_ids for j in similar):
            dropped["near_duplicate"] += 1
            continue
        kept_ids.add(i)
        kept.append(ex)
    return kept, dropped


def soft_labels(
    examples: list[Example], rater: Rater, taxonomy: Taxonomy, threshold: float
) -> tuple[list[Example], Counter, Counter]:
    """Rate the examples; returns those whose target is confirmed (labels and scores set), the drops per reason
    and the out-of-taxonomy counts per rater label."""
    dropped, outside = Counter(), Counter()
    kept = []
    cut = cutoffs(rater, threshold)
    for ex, row in zip(examples, rater.rate(examples)):
        scores, made = {}, set()
        for label, score, t in zip(rater.taxonomy.labels, row, cut):
            mapped = label if rater.taxonomy == taxonomy else rater.taxonomy.convert(label, taxonomy)
            if mapped is None:
                outside[label] += score >= t
                continue
            scores[mapped] = max(scores.get(mapped, 0.0), round(float(score), 4))
            if score >= t:
                made.add(mapped)
        labels = [label for label in taxonomy.labels if label in made]
        if ex.metadata["target"] not in labels:
            dropped["target_not_confirmed"] += 1
            continue
        ex.labels = labels
        ex.metadata = ex.metadata | {
            "scores": scores,
            "rater": rater.identity,
            "rated_with_context": ex.context is not None and rater.reads_context,
        }
        kept.append(ex)
    return kept, dropped, +outside


def candidates(calls: list[dict], passages: dict[str, Passage], taxonomy: str) -> Iterator[tuple[Example, Character]]:
    """Every utterance of the utterance ``calls`` as a context-less example labelled with its target (id
    ``<call id>/<j>``), with the character who says it."""
    for call in calls:
        character = Character(**call["character"])
        passage = passages[call["passage"]]
        meta = {"target": call["target"], "passage": passage.id, "story": passage.story, "character": character.name}
        for j, utterance in enumerate(call["utterances"]):
            yield Example(f"{call['id']}/{j}", utterance, [call["target"]], taxonomy, metadata=meta), character


def contexts_wanted(
    calls: list[dict], accepted: list[Example], per_call: int, skip: set[str]
) -> list[tuple[str, dict, list[Example]]]:
    """Per utterance call, its first ``per_call`` accepted examples that still need a context: ``(call id, call,
    examples)``; ids in ``skip`` (written, or given up as ``context:<id>``) are left out."""
    chosen: dict[str, list[Example]] = {}
    for ex in accepted:
        chosen.setdefault(ex.id.partition("/")[0], []).append(ex)
    todo = []
    for call in calls:
        missing = [ex for ex in chosen.get(call["id"], [])[:per_call] if not {ex.id, f"context:{ex.id}"} & skip]
        if missing and f"context:{call['id']}" not in skip:
            todo.append((call["id"], call, missing))
    return todo


class MemoRater:
    """A rater that rates each example once per run (by id, with or without its context): the rounds of a run
    rate the growing set of examples again."""

    def __init__(self, rater: Rater):
        self.rater, self.rows, self._counted = rater, {}, 0
        for attribute in ("name", "identity", "taxonomy", "reads_context", "thresholds"):
            setattr(self, attribute, getattr(rater, attribute, None))

    def rate(self, examples: list[Example]) -> list[list[float]]:
        key = lambda ex: (ex.id, ex.context)  # noqa: E731
        new = [ex for ex in examples if key(ex) not in self.rows]
        for ex, row in zip(new, self.rater.rate(new) if new else []):
            self.rows[key(ex)] = row
        return [self.rows[key(ex)] for ex in examples]

    def unseen_completions(self) -> list:
        """The LLM replies the rater got since the last call (none for a classifier)."""
        completions = getattr(self.rater, "completions", [])
        new, self._counted = completions[self._counted :], len(completions)
        return new
