"""Label fidelity: does the text say the emotion its label claims?

Every turn is re-labelled blind by judges (``emosynth.quality.judges``) and the judge's label is compared with
the synthetic one. A judge's agreement only means something next to its ceiling: its accuracy on a
label-balanced sample of real dev turns (``ceiling``).
"""

from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from emosynth.errors import ConfigError, UnknownNameError
from emosynth.judge import Judge, Position
from emosynth.records import Dialogue
from emosynth.taxonomy import Taxonomy, get_taxonomy


def agreement(gold: list[str | None], judged: list[str | None], labels: list[str]) -> dict[str, Any]:
    """Agreement of the judge with the given labels: overall, per given label, and the confusion matrix.

    Per-label agreement is the judge's recall of that label; ``macro`` is their mean (balanced accuracy), which
    is comparable across label mixes and with a ceiling taken on label-balanced turns. Turns whose label has no
    equivalent in the judge's set, or that the judge did not answer, are counted apart (``unmappable``,
    ``unanswered``) and left out of the rates.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, recall_score

    pairs = [(g, j) for g, j in zip(gold, judged) if g is not None and j is not None]
    given, answered = [g for g, _ in pairs], [j for _, j in pairs]
    present = [k for k in labels if k in set(given)]
    result: dict[str, Any] = {"n": len(pairs), "overall": None, "macro": None, "per_label": {}}
    if pairs:
        recalls = recall_score(given, answered, labels=present, average=None, zero_division=0)
        with warnings.catch_warnings():  # the judge may answer labels that no turn has: not an error here
            warnings.simplefilter("ignore", UserWarning)
            macro = balanced_accuracy_score(given, answered)
        result |= {
            "overall": round(float(accuracy_score(given, answered)), 4),
            "macro": round(float(macro), 4),
            "per_label": {k: round(float(r), 4) for k, r in zip(present, recalls)},
        }
    cm = confusion_matrix(given, answered, labels=labels).tolist() if pairs else []
    return result | {
        "unmappable": sum(g is None for g in gold),
        "unanswered": sum(g is not None and j is None for g, j in zip(gold, judged)),
        "confusion": {"labels": labels, "matrix": cm},
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


def ceiling(judge: Judge, real_dev: list[Dialogue], per_label: int = 20, seed: int = 0) -> dict[str, Any]:
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
    seconds: dict[str, float] = field(default_factory=dict)  # how long each judge took over all the turns

    @property
    def positions(self) -> list[Position]:
        """Every turn, in order, as (dialogue, index)."""
        return [(d, i) for d in self.dialogues for i in range(len(d.turns))]

    def gold(self, judge: str) -> list[str | None]:
        """The synthetic labels, mapped into the judge's label set (None: no equivalent)."""
        tax = self.taxonomies[judge]
        return [converted(d.turns[i].emotion, get_taxonomy(d.taxonomy), tax) for d, i in self.positions]

    def report(self) -> dict[str, Any]:
        """Each judge's ``agreement`` with the synthetic labels, by judge name."""
        return {
            name: agreement(self.gold(name), judged, list(self.taxonomies[name].labels))
            for name, judged in self.judged.items()
        }


def converted(label: str, source: Taxonomy, target: Taxonomy) -> str | None:
    """``source.convert``, with a label unknown to ``source`` counted as unmappable instead of stopping."""
    try:
        return source.convert(label, target)
    except UnknownNameError:
        return None


def judge_dataset(dialogues: list[Dialogue], judges: list[Judge]) -> Verdicts:
    """Every turn of ``dialogues`` judged by every judge."""
    positions = [(d, i) for d in dialogues for i in range(len(d.turns))]
    judged, seconds = {}, {}
    for j in judges:
        start = time.perf_counter()
        judged[j.name] = j.judge(positions)
        seconds[j.name] = time.perf_counter() - start
    return Verdicts(dialogues, judged, {j.name: j.taxonomy for j in judges}, seconds)


def fidelity_report(
    dialogues: list[Dialogue],
    judges: list[Judge],
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
        entry["seconds"] = round(verdicts.seconds[judge.name], 2)  # judging the synthetic turns, not the ceiling
        source = ceiling_from or (f"{judge.taxonomy.name}:dev" if judge.taxonomy.name in ERC_BENCHMARKS else None)
        if source:
            real = load_corpus(source, data_root)
            entry["ceiling"] = ceiling(judge, real.dialogues, ceiling_per_label, seed) | {"source": source}
        report["judges"][judge.name] = entry
    return report, verdicts
