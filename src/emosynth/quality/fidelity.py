"""Label fidelity: does the text say the emotion its label claims?

Every turn is re-labelled blind by a judge, and the judge's label is compared with the synthetic one:

- ``LLMJudge``: any backend; the labels are shown as numbered symbols, the judge sees the dialogue so far
  and the line to label, never the label the line was written for.
- ``ClassifierJudge``: a classifier trained on a real benchmark (``emosynth train --class-weights``).

A judge's agreement only means something next to its ceiling: its accuracy on a label-balanced sample of
real dev turns (``ceiling``). ``filter_dialogues`` turns the judgements into a filtered dataset.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emosynth.errors import ConfigError
from emosynth.llm.base import ChatRequest, LLMBackend
from emosynth.records import Dialogue, Turn
from emosynth.synth.prompts import render_messages
from emosynth.taxonomy import Taxonomy

log = logging.getLogger(__name__)
Position = tuple[Dialogue, int]  # a turn: its dialogue and its index


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
        turn = dialogue.turns[index]
        messages = render_messages(
            self.prompt_version,
            numbered="\n".join(f"{i}: {label}" for i, label in enumerate(self.taxonomy.labels)),
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
        requests = [self.request(d, i) for d, i in positions]
        out: list[str | None] = [None] * len(positions)
        for k, completion in self.backend.complete_many(requests):
            try:
                answer = json.loads(completion.text)["label"]
            except (ValueError, KeyError, TypeError):
                answer = None
            # a server that does not enforce the schema may answer -1, 2.5 or true: none of them is a label
            if type(answer) is int and 0 <= answer < len(self.taxonomy.labels):
                out[k] = self.taxonomy.labels[answer]
            else:
                log.debug("judge reply not a label: %r", completion.text[:80])
        return out


class ClassifierJudge:
    """Blind re-labelling with a classifier saved by ``emosynth train`` (its own label set)."""

    name = "classifier"

    def __init__(self, model_dir: str, batch_size: int = 64):
        from emosynth.train.loop import Trainer, TrainingArguments
        from emosynth.train.models import load_model

        self.identity = str(model_dir)  # what judged, as recorded in reports
        self.model = load_model(model_dir)
        if getattr(self.model, "multi_label", False):
            raise ConfigError(f"{model_dir} is a multi-label classifier; a label judge needs one label per turn")
        self.trainer = Trainer(self.model, TrainingArguments(eval_batch_size=batch_size), [])
        self.taxonomy = _taxonomy_of(self.model.labels)

    def judge(self, positions: list[Position]) -> list[str | None]:
        from emosynth.train.items import turn_items

        by_dialogue: dict[str, Dialogue] = {}
        for d, _ in positions:
            if by_dialogue.setdefault(d.id, d) is not d:
                raise ConfigError(f"two different dialogues share the id {d.id!r}; ids must be unique")
        items = {(it.dialogue_id, it.index): it for it in turn_items(by_dialogue.values(), None)}
        chosen = [items[(d.id, i)] for d, i in positions]
        if not chosen:
            return []
        return [self.model.labels[k] for k in self.trainer.predict(chosen)]


def _taxonomy_of(labels: list[str]) -> Taxonomy:
    """The built-in label set a classifier was trained on (its labels, in order)."""
    from emosynth.taxonomy import builtin_taxonomies

    for tax in builtin_taxonomies().values():
        if list(tax.labels) == list(labels):
            return tax
    raise ConfigError(f"a classifier with labels {labels} matches no known label set; train it on a benchmark")


def map_label(label: str, source: Taxonomy, target: Taxonomy) -> str | None:
    return label if source.name == target.name else source.map_to(label, target)


def agreement(gold: list[str | None], judged: list[str | None], labels: list[str]) -> dict[str, Any]:
    """Agreement of the judge with the given labels: overall, per given label, and the confusion matrix.

    Turns whose label has no equivalent in the judge's set, or that the judge did not answer, are counted
    apart (``unmappable``, ``unanswered``) and left out of the rates.
    """
    from sklearn.metrics import confusion_matrix

    pairs = [(g, j) for g, j in zip(gold, judged) if g is not None and j is not None]
    per_label = {}
    for label in labels:
        hits = [g == j for g, j in pairs if g == label]
        if hits:
            per_label[label] = round(float(np.mean(hits)), 4)
    cm = confusion_matrix([g for g, _ in pairs], [j for _, j in pairs], labels=labels) if pairs else None
    return {
        "n": len(pairs),
        "overall": round(float(np.mean([g == j for g, j in pairs])), 4) if pairs else None,
        # mean per-label agreement: comparable across label mixes and with a ceiling taken on balanced turns
        "macro": round(float(np.mean(list(per_label.values()))), 4) if per_label else None,
        "per_label": per_label,
        "unmappable": sum(g is None for g in gold),
        "unanswered": sum(g is not None and j is None for g, j in zip(gold, judged)),
        "confusion": {"labels": labels, "matrix": cm.tolist() if cm is not None else []},
    }


def balanced_positions(dialogues: list[Dialogue], labels: list[str], per_label: int, seed: int = 0) -> list[Position]:
    """Up to ``per_label`` turns of each label, drawn with a seed (the judge's ceiling sample)."""
    by_label: dict[str, list[Position]] = {k: [] for k in labels}
    for d in dialogues:
        for i, t in enumerate(d.turns):
            if t.emotion in by_label:
                by_label[t.emotion].append((d, i))
    rng = random.Random(seed)
    return [p for k in labels for p in rng.sample(by_label[k], min(per_label, len(by_label[k])))]


def ceiling(judge, real_dev: list[Dialogue], per_label: int = 20, seed: int = 0) -> dict[str, Any]:
    """The judge's accuracy on a label-balanced sample of real dev turns (real labels as gold)."""
    positions = balanced_positions(real_dev, list(judge.taxonomy.labels), per_label, seed)
    gold = [d.turns[i].emotion for d, i in positions]
    result = agreement(gold, judge.judge(positions), list(judge.taxonomy.labels))
    return result | {"per_label_sample": per_label, "seed": seed}


@dataclass
class Verdicts:
    """Judgements of every turn of a synthetic dataset, one list per judge (labels in the judge's set)."""

    dialogues: list[Dialogue]
    judged: dict[str, list[str | None]]
    taxonomies: dict[str, Taxonomy]

    @property
    def positions(self) -> list[Position]:
        return [(d, i) for d in self.dialogues for i in range(len(d.turns))]

    def gold(self, judge: str) -> list[str | None]:
        """The synthetic labels, mapped into the judge's label set (None: no equivalent)."""
        tax = self.taxonomies[judge]
        from emosynth.taxonomy import get_taxonomy

        return [map_label(d.turns[i].emotion, get_taxonomy(d.taxonomy), tax) for d, i in self.positions]

    def report(self) -> dict[str, Any]:
        return {
            name: agreement(self.gold(name), judged, list(self.taxonomies[name].labels))
            for name, judged in self.judged.items()
        }


def judge_dataset(dialogues: list[Dialogue], judges: list) -> Verdicts:
    positions = [(d, i) for d in dialogues for i in range(len(d.turns))]
    judged = {j.name: j.judge(positions) for j in judges}
    return Verdicts(dialogues, judged, {j.name: j.taxonomy for j in judges})


def fidelity_report(
    dialogues: list[Dialogue],
    judges: list,
    ceiling_from: str | None = None,
    ceiling_per_label: int = 20,
    seed: int = 0,
    data_root: str | None = None,
) -> tuple[dict[str, Any], Verdicts]:
    """Every judge's agreement with the labels of ``dialogues``, next to its ceiling.

    The ceiling is measured on ``ceiling_from`` (a corpus spec, see ``load_corpus``), by default on the dev
    split of the judge's own benchmark when it has one; otherwise it is None.
    """
    from emosynth.data.benchmarks import ERC_BENCHMARKS
    from emosynth.quality.corpus import load_corpus

    if not judges:
        raise ConfigError("no judge: give a classifier (RUN/model) and/or an LLM judge")
    verdicts = judge_dataset(dialogues, judges)
    report: dict[str, Any] = {"dialogues": len(dialogues), "turns": len(verdicts.positions), "judges": {}}
    for judge, result in zip(judges, verdicts.report().values()):
        entry = {"agreement": result, "taxonomy": judge.taxonomy.name, "model": judge.identity, "ceiling": None}
        source = ceiling_from or (f"{judge.taxonomy.name}:dev" if judge.taxonomy.name in ERC_BENCHMARKS else None)
        if source:
            real = load_corpus(source, data_root)
            entry["ceiling"] = ceiling(judge, real.dialogues, ceiling_per_label, seed) | {"source": source}
        report["judges"][judge.name] = entry
    return report, verdicts


def filter_dialogues(
    verdicts: Verdicts, level: str = "turn", by: tuple[str, ...] | None = None, max_disagreement: float = 0.0
) -> tuple[list[Dialogue], dict[str, int]]:
    """A filtered copy of the dataset.

    A turn *disagrees* when every judge in ``by`` (default: all) answered and none agrees with its label;
    with several judges, a relabel also needs the judges to agree with each other.

    - ``level="turn"``: a disagreeing turn takes the judges' label when it maps back into the dataset's
      label set and the judges agree on it; otherwise the turn keeps its label. The dialogue's metadata
      lists the relabelled turns.
    - ``level="dialogue"``: a dialogue is dropped when more than ``max_disagreement`` of its turns disagree.
    """
    from emosynth.taxonomy import get_taxonomy

    if level not in ("turn", "dialogue"):
        raise ConfigError(f"Unknown filter level '{level}'; expected turn or dialogue")
    by = tuple(by or verdicts.judged)
    unknown = [b for b in by if b not in verdicts.judged]
    if unknown:
        raise ConfigError(f"No judge named {unknown[0]!r}; judged by: {', '.join(verdicts.judged)}")
    golds = {b: verdicts.gold(b) for b in by}
    kept: list[Dialogue] = []
    stats = {"dialogues_in": len(verdicts.dialogues), "turns_relabelled": 0, "dialogues_dropped": 0}
    k = 0
    for d in verdicts.dialogues:
        own = get_taxonomy(d.taxonomy)
        turns, relabelled, disagree = [], [], 0
        for i, t in enumerate(d.turns):
            answers = [(verdicts.judged[b][k], golds[b][k], verdicts.taxonomies[b]) for b in by]
            k += 1
            against = all(j is not None and g is not None and j != g for j, g, _ in answers)
            new = None
            if against:
                disagree += 1
                back = {map_label(j, tax, own) for j, _, tax in answers}
                new = back.pop() if len(back) == 1 else None
                if new == t.emotion:  # another label set's label that maps back onto the same one
                    new = None
            if level == "turn" and new is not None:
                turns.append(Turn(t.speaker, t.text, new))
                relabelled.append(i)
            else:
                turns.append(t)
        if level == "dialogue" and disagree > max_disagreement * len(d.turns):
            stats["dialogues_dropped"] += 1
            continue
        meta = dict(d.metadata)
        if relabelled:
            meta["relabelled"] = {"turns": relabelled, "by": list(by), "from": [d.turns[i].emotion for i in relabelled]}
            stats["turns_relabelled"] += len(relabelled)
        kept.append(
            Dialogue(
                d.id,
                turns,
                d.taxonomy,
                d.source,
                d.mode,
                d.target_emotion,
                d.backend,
                d.model,
                d.seed,
                d.prompt_version,
                meta,
            )
        )
    stats["dialogues_out"] = len(kept)
    return kept, stats


def write_filtered(
    verdicts: Verdicts,
    output: str | Path,
    level: str = "turn",
    by: tuple[str, ...] = (),
    max_disagreement: float = 0.0,
    source: str | Path | None = None,
) -> dict[str, Any]:
    """``filter_dialogues`` written to ``output`` (replaced whole, never half-written); returns its statistics.

    The statistics, with ``source`` (the judged dataset), are also written beside the copy as ``<output>.filter.json``,
    so that whoever reads the copy later (``emosynth report``) can say where it came from and what was dropped.
    """
    from emosynth.data.io import write_atomic
    from emosynth.synth.dialogues import sidecar

    kept, stats = filter_dialogues(verdicts, level, by, max_disagreement)
    output = Path(output)
    stats = stats | {"level": level, "by": list(by or verdicts.judged), "output": str(output)}
    write_atomic(output, "".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in kept))
    record = stats | {"source": str(source) if source else None}
    write_atomic(sidecar(output, "filter.json"), json.dumps(record, indent=1) + "\n")
    return stats
