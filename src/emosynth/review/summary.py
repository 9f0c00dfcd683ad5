"""The human column of the fidelity figures: how often people name the assigned label, per label and as a confusion
matrix (the same ``agreement`` the model judges get), and how far annotators agree with each other (Cohen's kappa
for each pair, Fleiss' kappa over the items everyone answered).

An example with several labels (Emo Pillars' soft multi-labels) agrees when the person names any of them; its
confusion row is the named label when it is among them, else the main one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

from emosynth.data.io import iter_jsonl, sidecar
from emosynth.quality.agreement import agreement
from emosynth.review.store import Answer, AnswerStore, store_path
from emosynth.taxonomy import Taxonomy, get_taxonomy


def _gold(answer: Answer) -> str:
    return answer.perceived if answer.agrees else answer.assigned[0]


def _flags(answers: list[Answer]) -> dict[str, float | None]:
    n = len(answers)
    return {
        "incoherent": round(sum(a.incoherent for a in answers) / n, 4) if n else None,
        "names_its_emotion": round(sum(a.names_emotion for a in answers) / n, 4) if n else None,
    }


def between_annotators(answers: list[Answer], labels: list[str]) -> dict[str, Any] | None:
    """Cohen's kappa of every pair on the items both answered; Fleiss' kappa on the items all answered."""
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    by_person: dict[str, dict[str, str]] = defaultdict(dict)
    for a in answers:
        by_person[a.annotator][a.item] = a.perceived
    people = sorted(by_person)
    if len(people) < 2:
        return None
    pairs = {}
    for p, q in combinations(people, 2):
        shared = sorted(by_person[p].keys() & by_person[q].keys())
        kappa = None
        if len(shared) >= 2:
            x, y = [by_person[p][k] for k in shared], [by_person[q][k] for k in shared]
            kappa = 1.0 if x == y else round(float(cohen_kappa_score(x, y, labels=labels)), 4)
        pairs[f"{p} / {q}"] = {"items": len(shared), "cohen_kappa": kappa}
    common = sorted(set.intersection(*(set(by_person[p]) for p in people)))
    fleiss = None
    if len(common) >= 2:
        codes = [[labels.index(by_person[p][k]) for p in people] for k in common]
        table, _ = aggregate_raters(codes, n_cat=len(labels))
        value = float(fleiss_kappa(table, method="fleiss"))
        fleiss = round(value, 4) if value == value else 1.0  # nan: one category throughout, full agreement
    return {"annotators": people, "pairs": pairs, "items_all_answered": len(common), "fleiss_kappa": fleiss}


def review_summary(answers: list[Answer], taxonomy: Taxonomy) -> dict[str, Any]:
    """Agreement with the assigned labels (pooled and per annotator), flag rates, agreement between annotators."""
    labels = list(taxonomy.labels)

    def measured(group: list[Answer]) -> dict[str, Any]:
        figures = agreement([_gold(a) for a in group], [a.perceived for a in group], labels)
        return figures | _flags(group)

    by_person: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        by_person[a.annotator].append(a)
    return {
        "taxonomy": taxonomy.name,
        "answers": len(answers),
        "items": len({a.item for a in answers}),
        "pooled": measured(answers),
        "annotators": {p: measured(group) for p, group in sorted(by_person.items())},
        "between_annotators": between_annotators(answers, labels),
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as a few readable lines."""

    def rate(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    pooled = summary["pooled"]
    lines = [
        f"{summary['answers']} answers on {summary['items']} items ({summary['taxonomy']}): agreement with the "
        f"assigned labels {rate(pooled['overall'])}, per-label mean {rate(pooled['macro'])}; incoherent "
        f"{rate(pooled['incoherent'])}, names its own emotion {rate(pooled['names_its_emotion'])}"
    ]
    for person, figures in summary["annotators"].items():
        lines.append(f"  {person}: {figures['n']} answers, agreement {rate(figures['overall'])}")
    if pooled["per_label"]:
        lines.append("  per label: " + ", ".join(f"{k} {v:.2f}" for k, v in pooled["per_label"].items()))
    if between := summary["between_annotators"]:
        for pair, entry in between["pairs"].items():
            lines.append(f"  {pair}: Cohen's kappa {rate(entry['cohen_kappa'])} on {entry['items']} shared items")
        lines.append(
            f"  Fleiss' kappa {rate(between['fleiss_kappa'])} on the {between['items_all_answered']} items all answered"
        )
    return lines


def human_figures(data: str | Path) -> dict[str, Any] | None:
    """The human column of a dataset: computed from its answers when ``DATA.review.sqlite`` is there, else read from
    the ``DATA.review.json`` that ``review --summary`` wrote (e.g. committed without the database); None without
    either."""
    if store_path(data).is_file():
        first = next(iter_jsonl(data), None)
        answers = AnswerStore(store_path(data)).answers()
        if first is not None and answers and "taxonomy" in first[1]:
            return review_summary(answers, get_taxonomy(first[1]["taxonomy"]))
    saved = sidecar(data, "review.json")
    return json.loads(saved.read_text(encoding="utf-8")) if saved.is_file() else None
