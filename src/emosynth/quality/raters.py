"""Raters of soft labels (``emosynth.judge.Rater``) and their ceiling on real data.

- ``ClassifierRater``: a classifier saved by ``emosynth train`` (for Emo Pillars: the multi-label GoEmotions one).
- ``LLMRater``: any backend names up to three of the numbered labels, blind to the target, ``samples`` times; a
  label's score is the share of samples that name it (the paper's rater is an LLM).
- ``CombinedRater``: the mean of several raters' scores (and of their cut-offs).
- ``rater_ceiling``: the rater's own macro-F1 and per-label recall on a label-balanced sample of real examples
  (e.g. GoEmotions dev), the most agreement its labels can be expected to carry.
"""

from __future__ import annotations

import json
import logging
import random
from typing import Any

from emosynth.errors import ConfigError
from emosynth.judge import cutoffs, labels_made
from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.quality.agreement import converted
from emosynth.quality.judges import taxonomy_of
from emosynth.records import Example
from emosynth.synth.prompts import render_messages
from emosynth.taxonomy import Taxonomy, get_taxonomy

log = logging.getLogger(__name__)


class ClassifierRater:
    """Soft labels from a classifier saved by ``emosynth train``: its sigmoid (multi-label) or softmax scores, cut
    at the per-label thresholds it was saved with (tuned on dev), if any.

    A model that reads the turns before the current one (``context``, ``compm``) reads an example's context as
    the turn before its utterance; an ``utterance`` model scores the utterance alone (``reads_context`` False).
    """

    name = "classifier"

    def __init__(self, model_dir: str, batch_size: int = 64):
        from emosynth.train.models import load_model

        self.identity = str(model_dir)
        self.model = load_model(model_dir)
        self.batch_size = batch_size
        self.taxonomy = taxonomy_of(self.model.labels)
        self.reads_context = getattr(self.model, "kind", "compm") != "utterance"
        self.thresholds = getattr(self.model, "thresholds", None)

    def rate(self, examples: list[Example]) -> list[list[float]]:
        """One row of scores per example, in the classifier's label order."""
        from emosynth.train.inference import probabilities
        from emosynth.train.items import example_items

        if not examples:
            return []
        return probabilities(self.model, example_items(examples, None), self.batch_size).tolist()


class LLMRater:
    """Soft labels from an LLM: each of ``samples`` replies names one to ``most`` numbered labels (under a JSON
    schema, blind to the target; an example's context and speaker are shown when it has a context); a label's
    score is the share of replies that name it. A reply that names no valid label counts as a sample naming none.
    ``completions`` keeps every reply's completion (its calls and tokens count in a run's summary).
    """

    name = "llm"
    reads_context = True
    thresholds = None

    def __init__(
        self,
        backend: LLMBackend,
        taxonomy: Taxonomy,
        samples: int = 1,
        most: int = 3,
        prompt_version: str = "pillars_rate.v1",
        seed: int = 0,
    ):
        self.backend, self.taxonomy, self.samples, self.most = backend, taxonomy, samples, most
        self.prompt_version, self.seed = prompt_version, seed
        self.completions: list[Completion] = []
        number = {"enum": list(range(len(taxonomy.labels)))}
        self.schema = {
            "type": "object",
            "properties": {"labels": {"type": "array", "items": number, "minItems": 1, "maxItems": most}},
            "required": ["labels"],
            "additionalProperties": False,
        }

    @property
    def identity(self) -> str:
        """What rated, as recorded in reports."""
        return f"llm:{self.backend.identity()}"

    def request(self, example: Example, sample: int) -> ChatRequest:
        """The blind question about one example (one of its ``samples``)."""
        messages = render_messages(
            self.prompt_version,
            numbered=self.taxonomy.numbered("\n"),
            context=example.context or "",
            speaker=example.metadata.get("character", "") if example.context else "",
            text=example.text,
            most=self.most,
        )
        temperature = 0.0 if self.samples == 1 else 0.7
        return ChatRequest(
            messages, temperature=temperature, max_tokens=24, seed=self.seed + sample, json_schema=self.schema
        )

    def rate(self, examples: list[Example]) -> list[list[float]]:
        """One row of shares per example, in the taxonomy's label order."""
        requests = [self.request(ex, s) for ex in examples for s in range(self.samples)]
        rows = [[0.0] * len(self.taxonomy.labels) for _ in examples]
        for k, completion in self.backend.complete_many(requests):
            self.completions.append(completion)
            for label in set(self._labels(completion.text)):
                rows[k // self.samples][label] += 1 / self.samples
        return rows

    def _labels(self, text: str) -> list[int]:
        try:
            answer = json.loads(text)["labels"]
        except (ValueError, KeyError, TypeError):
            answer = None
        if not isinstance(answer, list):
            log.debug("rater reply not a list of labels: %r", text[:80])
            return []
        return [a for a in answer[: self.most] if self.taxonomy.label_of(a) is not None]


class CombinedRater:
    """The mean of several raters' scores on one label set; a label is made where the mean score reaches the mean
    of the raters' cut-offs (each rater's own thresholds, or ``threshold``)."""

    name = "combined"
    cutoff_note = "per label, the mean of its raters' cut-offs"

    def __init__(self, raters: list, threshold: float):
        if len({r.taxonomy.name for r in raters}) != 1:
            raise ConfigError("combined raters must score the same label set")
        self.raters, self.taxonomy = raters, raters[0].taxonomy
        self.reads_context = any(r.reads_context for r in raters)
        own = [cutoffs(r, threshold) for r in raters]
        self.thresholds = [sum(col) / len(col) for col in zip(*own)]

    @property
    def identity(self) -> str:
        """What rated, as recorded in reports."""
        return " + ".join(r.identity for r in self.raters)

    @property
    def completions(self) -> list[Completion]:
        """The LLM replies its raters asked for."""
        return [c for r in self.raters for c in getattr(r, "completions", ())]

    def rate(self, examples: list[Example]) -> list[list[float]]:
        """The mean of the raters' rows."""
        tables = [r.rate(examples) for r in self.raters]
        return [[sum(col) / len(col) for col in zip(*rows)] for rows in zip(*tables)]


def balanced_examples(examples: list[Example], labels: list[str], per_label: int, seed: int = 0) -> list[Example]:
    """Up to ``per_label`` examples carrying each label (seeded; an example counts once), in a stable order."""
    rng = random.Random(seed)
    chosen: dict[str, Example] = {}
    for label in labels:
        pool = [e for e in examples if label in e.labels and e.id not in chosen]
        for e in rng.sample(pool, min(per_label, len(pool))):
            chosen[e.id] = e
    return sorted(chosen.values(), key=lambda e: e.id)


def rater_ceiling(rater, real: list[Example], per_label: int = 20, threshold: float = 0.3, seed: int = 0) -> dict:
    """Macro-F1 and per-label recall of ``rater`` (scores at or above ``cutoffs``) against the real labels of a
    label-balanced sample of ``real`` (labels mapped into the rater's set), over the labels the sample has.

    A rater with thresholds tuned on a split should be measured on another one (tuned on dev: measure on test)."""
    from sklearn.metrics import f1_score, recall_score

    labels = list(rater.taxonomy.labels)
    mapped = [_in_set(e, rater.taxonomy) for e in real]
    sample = balanced_examples([e for e in mapped if e.labels], labels, per_label, seed)
    gold = [[int(label in e.labels) for label in labels] for e in sample]
    pred = [[int(label in made) for label in labels] for made in labels_made(rater, sample, threshold)]
    present = [k for k in range(len(labels)) if any(row[k] for row in gold)]  # labels the sample has
    recall = recall_score(gold, pred, labels=present, average=None, zero_division=0)
    macro = f1_score(gold, pred, labels=present, average="macro", zero_division=0) if present else 0.0
    result: dict[str, Any] = {
        "rater": rater.identity,
        "macro_f1": round(float(macro), 4),
        "recall_per_label": {labels[k]: round(float(r), 4) for k, r in zip(present, recall)},
        "examples": len(sample),
        "per_label_sample": per_label,
        "threshold": "per label, the rater's own" if getattr(rater, "thresholds", None) else threshold,
        "seed": seed,
    }
    return result


def _in_set(example: Example, taxonomy) -> Example:
    """The example with its labels in ``taxonomy``; a label with no equivalent there, or unknown to its own set
    (no gold to score against), is left out."""
    source = taxonomy if example.taxonomy == taxonomy.name else get_taxonomy(example.taxonomy)
    labels = {converted(label, source, taxonomy) for label in example.labels} - {None}
    return Example(example.id, example.text, sorted(labels), taxonomy.name, example.context)
