"""The judges of label fidelity: each re-labels turns blind, in its own label set (``emosynth.judge.Judge``).

- ``LLMJudge``: any backend; the labels are shown as numbered symbols, the judge sees the dialogue so far
  and the line to label, never the label the line was written for.
- ``ClassifierJudge``: a classifier trained on a real benchmark (``emosynth train --class-weights``).

And the chooser of best-of-n generation (``emosynth.judge.Chooser``): ``ClassifierChooser`` scores candidate
utterances by such a classifier's probability of the label they were written for.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict, deque

from emosynth.errors import ConfigError
from emosynth.judge import Position, chooser_models, chooser_rules
from emosynth.llm.base import ChatRequest, LLMBackend
from emosynth.records import Dialogue
from emosynth.synth.prompts import render_messages
from emosynth.taxonomy import Taxonomy, builtin_taxonomies, names_label
from emosynth.text import words

log = logging.getLogger(__name__)


class LLMJudge:
    """Blind re-labelling with an LLM; a reply that is not one of the numbered labels counts as no answer."""

    name = "llm"

    def __init__(self, backend: LLMBackend, taxonomy: Taxonomy, prompt_version: str = "judge.v1", seed: int = 0):
        self.backend, self.taxonomy, self.prompt_version, self.seed = backend, taxonomy, prompt_version, seed
        self.schema = {
            "type": "object",
            "properties": {"label": {"enum": list(range(len(taxonomy.labels)))}},
            "required": ["label"],
            "additionalProperties": False,
        }

    def request(self, dialogue: Dialogue, index: int) -> ChatRequest:
        """The blind question about turn ``index``: the dialogue so far, the line, the numbered labels."""
        turn = dialogue.turns[index]
        messages = render_messages(
            self.prompt_version,
            numbered=self.taxonomy.numbered("\n"),
            history=[(t.speaker, t.text) for t in dialogue.turns[:index]],
            speaker=turn.speaker,
            text=turn.text,
        )
        return ChatRequest(messages, temperature=0.0, max_tokens=16, seed=self.seed, json_schema=self.schema)

    @property
    def identity(self) -> str:
        """What judged, as recorded in reports."""
        return self.backend.identity()

    def judge(self, positions: list[Position]) -> list[str | None]:
        """The judge's label of each turn; None where the reply is not one of the numbered labels."""
        requests = [self.request(d, i) for d, i in positions]
        out: list[str | None] = [None] * len(positions)
        for k, completion in self.backend.complete_many(requests):
            try:
                answer = json.loads(completion.text)["label"]
            except (ValueError, KeyError, TypeError):
                answer = None
            if (label := self.taxonomy.label_of(answer)) is not None:
                out[k] = label
            else:
                log.debug("judge reply not a label: %r", completion.text[:80])
        return out


class ClassifierJudge:
    """Blind re-labelling with a classifier saved by ``emosynth train`` (its own label set)."""

    name = "classifier"

    def __init__(self, model_dir: str, batch_size: int = 64):
        from emosynth.train.models import load_model

        self.identity = str(model_dir)  # what judged, as recorded in reports
        self.model = load_model(model_dir)
        if getattr(self.model, "multi_label", False):
            raise ConfigError(f"{model_dir} is a multi-label classifier; a label judge needs one label per turn")
        self.batch_size = batch_size
        self.taxonomy = taxonomy_of(self.model.labels)

    def judge(self, positions: list[Position]) -> list[str | None]:
        """The classifier's label of each turn, read with its dialogue around it as the model was trained."""
        from emosynth.train.inference import predict
        from emosynth.train.items import turn_items

        by_dialogue: dict[str, Dialogue] = {}
        for d, _ in positions:
            if by_dialogue.setdefault(d.id, d) is not d:
                raise ConfigError(f"two different dialogues share the id {d.id!r}; ids must be unique")
        items = {(it.dialogue_id, it.index): it for it in turn_items(by_dialogue.values(), None)}
        chosen = [items[(d.id, i)] for d, i in positions]
        if not chosen:
            return []
        return [self.model.labels[k] for k in predict(self.model, chosen, self.batch_size)]


class ClassifierChooser:
    """Scores candidate turns by a single-label classifier's probability of their planned label (several
    classifiers, named with commas: the mean of their probabilities, so that no one model's quirks decide).

    Two rules keep the chosen turns from a formula: a candidate that names its label
    (``resources/emotion_words.yaml``) scores one less, so it is kept only when every candidate does (and a
    minimum score then rejects it); and a candidate that opens with the same word as one of the last
    ``opener_window`` turns kept for its label in this run scores ``opener_penalty`` less, when another candidate
    opens differently. With ``opener_cap`` (and ``real_openers``, each label's top-opener share in the real
    benchmark), a candidate whose opener would then open more than ``opener_cap`` times that share of its label's
    kept turns scores ``opener_penalty`` less too (once the label has ``opener_floor`` kept turns, and again only
    when another candidate opens otherwise): the window alone lets one opener take a quarter of a label's turns.
    A context model reads the turns kept before the candidate (their speakers are not known
    here: they alternate between two placeholders). The backend keeps the best-scored candidate (the earliest of
    equals) and tells the chooser (``kept``), which remembers its opener. It scores on ``threads`` torch threads
    (``--n-threads`` of generate: one leaves the other core to a job beside it), else as many as torch has.
    """

    def __init__(
        self,
        model_dir: str,
        batch_size: int = 16,
        opener_window: int = 3,
        opener_penalty: float = 0.5,
        threads: int | None = None,
        opener_cap: float | None = None,
        real_openers: dict[str, float] | None = None,
        opener_floor: int = 10,
    ):
        import torch

        from emosynth.train.models import load_model

        if threads:
            torch.set_num_threads(threads)

        self.identity = str(model_dir)
        paths = chooser_models(self.identity)
        self.models = [load_model(path) for path in paths]
        for path, model in zip(paths, self.models):
            if getattr(model, "multi_label", False):
                raise ConfigError(f"{path} is a multi-label classifier; choosing a turn needs one label per turn")
            if model.labels != self.models[0].labels:
                raise ConfigError(f"{path} has other labels than {paths[0]}; choose with one set")
        self.batch_size = batch_size
        self.taxonomy = taxonomy_of(self.models[0].labels)
        self.opener_penalty = opener_penalty
        self.recent: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=opener_window))
        if opener_cap and not real_openers:
            raise ConfigError("an opener cap needs the real benchmark's top-opener share of each label")
        self.caps = {label: opener_cap * share for label, share in (real_openers or {}).items()} if opener_cap else {}
        self.rules = chooser_rules(opener_cap)
        self.opener_floor = opener_floor
        self.opened: dict[str, Counter[str]] = defaultdict(Counter)

    def score(self, label: str, candidates: list[str], history: list[str]) -> list[tuple[float, bool]]:
        """Per candidate: the probability of ``label`` (less the penalties) and whether it is the top label."""
        from emosynth.train.inference import probabilities
        from emosynth.train.items import TurnItem

        k = self.taxonomy.index(label)
        before = [("A" if (len(history) - i) % 2 else "B", text) for i, text in enumerate(history)]
        items = [TurnItem("choice", len(history), "B", text, -1, before, []) for text in candidates]
        rows = sum(probabilities(model, items, self.batch_size) for model in self.models) / len(self.models)
        openers = [opener(text) for text in candidates]
        marks = [0.0] * len(candidates)
        for marked in ([w in self.recent[label] for w in openers], [self.crowded(label, w) for w in openers]):
            if not all(marked):  # a rule marks down only where another candidate escapes it
                marks = [m + self.opener_penalty * x for m, x in zip(marks, marked)]
        return [
            (float(row[k]) - names_label(set(words(text)), label) - mark, int(row.argmax()) == k)
            for text, row, mark in zip(candidates, rows, marks)
        ]

    def crowded(self, label: str, word: str) -> bool:
        """Whether keeping a turn of ``label`` that opens with ``word`` would raise that opener's share of the
        label's kept turns above the cap (never before the label has ``opener_floor`` kept turns)."""
        counts = self.opened[label]
        n = sum(counts.values())
        return label in self.caps and n >= self.opener_floor and (counts[word] + 1) / (n + 1) > self.caps[label]

    def kept(self, label: str, text: str) -> None:
        """Remember the kept turn's opener for its label."""
        self.recent[label].append(opener(text))
        self.opened[label][opener(text)] += 1


def opener(text: str) -> str:
    """A text's first word, case-folded (as ``inspect`` counts openers); empty for a text without words."""
    return (words(text) or [""])[0]


def taxonomy_of(labels: list[str]) -> Taxonomy:
    """The built-in label set a classifier was trained on (its labels, in order)."""
    for tax in builtin_taxonomies().values():
        if list(tax.labels) == list(labels):
            return tax
    raise ConfigError(f"a classifier with labels {labels} matches no known label set; train it on a benchmark")
