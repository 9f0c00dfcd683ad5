"""Plain-text and template tables of ``inspect`` statistics, one column per corpus (CLI and report share them)."""

from __future__ import annotations

import math
from typing import Any


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if pct:
        return f"{100 * value:.1f}%"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _get(r: Any, *path: str) -> Any:
    """``r[path[0]][path[1]]...``, or None where a key is missing."""
    for key in path:
        r = r.get(key) if isinstance(r, dict) else None
    return r


def _opener(stats: dict[str, Any] | None) -> str:
    return f"{stats['word']} {_fmt(stats['word_share'], pct=True)}" if stats else "-"


def table_rows(reports: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(row name, one cell per report): the side-by-side table ``inspect`` prints and the report embeds."""

    rows: list[tuple[str, list[str]]] = [
        ("dialogues", [_fmt(_get(r, "size", "dialogues")) for r in reports]),
        ("texts", [_fmt(_get(r, "size", "texts")) for r in reports]),
    ]
    labels = list(dict.fromkeys(k for r in reports for k in r["label_distribution"]))
    rows += [(f"label {k}", [_fmt(r["label_distribution"].get(k), pct=True) for r in reports]) for k in labels]
    rows += [
        ("JS divergence vs real", [_fmt(_get(r, "against", "js_divergence")) for r in reports]),
        ("tokens per utterance", [_fmt(_get(r, "utterance_tokens", "mean")) for r in reports]),
        ("turns per dialogue", [_fmt(_get(r, "turns_per_dialogue", "mean")) for r in reports]),
        ("speakers per dialogue", [_fmt(_get(r, "speakers_per_dialogue", "mean")) for r in reports]),
        ("emotion shift rate", [_fmt(_get(r, "transitions", "shift_rate"), pct=True) for r in reports]),
        ("distinct-1 (sample)", [_fmt(r["distinct_1"]) for r in reports]),
        ("distinct-2 (sample)", [_fmt(r["distinct_2"]) for r in reports]),
        ("self-BLEU (lower = more diverse)", [_fmt(r["self_bleu"]) for r in reports]),
        ("semantic diversity", [_fmt(_get(r, "semantic_diversity", "overall")) for r in reports]),
        ("near-duplicate texts (sample)", [_fmt(r["near_duplicate_rate"], pct=True) for r in reports]),
        ("verbatim repeats in dialogue", [_fmt(r["verbatim_repeat_rate"], pct=True) for r in reports]),
        ("label word in text", [_fmt(_get(r, "leakage", "rate"), pct=True) for r in reports]),
        ("out-of-taxonomy labels", [_fmt(_get(r, "out_of_taxonomy", "count")) for r in reports]),
    ]
    rows += [
        (f"top opener {k}", [_opener(_get(r, "openers", k)) for r in reports])
        for k in labels
        if any(_get(r, "openers", k) for r in reports)
    ]
    rows += _class_and_context_rows(reports)
    rows += [
        (f"semantic diversity {k}", [_fmt(_get(r, "semantic_diversity", "per_label", k)) for r in reports])
        for k in labels
        if any(_get(r, "semantic_diversity", "per_label", k) is not None for r in reports)
    ]
    return rows


def _class_and_context_rows(reports: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Rows of utterance-level corpora, shown when one corpus has them: diversity within a class (neutral
    apart from the mean over emotion classes) and how far apart the contexts of one theme are."""
    rows = []
    metrics = [("distinct_2", "distinct-2"), ("self_bleu", "self-BLEU"), ("semantic", "semantic diversity")]
    for key, name in metrics:
        if any(key in (_get(r, "class_diversity", "emotions") or {}) for r in reports):
            for group, shown in (("neutral", "neutral"), ("emotions", "emotion mean")):
                rows.append(
                    (f"{name} per class, {shown}", [_fmt(_get(r, "class_diversity", group, key)) for r in reports])
                )
    personal = [_get(r, "context_personalization") or {} for r in reports]
    if any(personal):
        rows.append(
            ("contexts: near-duplicates in theme", [_fmt(c.get("near_duplicate_rate"), pct=True) for c in personal])
        )
    if any("semantic_diversity" in c for c in personal):
        cells = [_fmt(_get(c, "semantic_diversity", "mean")) for c in personal]
        rows.append(("contexts: semantic diversity in theme", cells))
    return rows


def format_table(reports: list[dict[str, Any]]) -> str:
    """Plain-text table, one column per corpus."""
    rows = [("", [r["name"] for r in reports]), *table_rows(reports)]
    width = max(len(name) for name, _ in rows)
    cols = [max(len(row[1][i]) for row in rows) for i in range(len(reports))]
    lines = [name.ljust(width) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, cols)) for name, cells in rows]
    return "\n".join(lines)
