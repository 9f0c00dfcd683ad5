"""The report's plots, as PNG bytes: the transfer curve, label distributions and semantic diversity side by side
(the critical-difference diagram is ``experiment.stats.cd_diagram``)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

MARKERS = {"shuffled-labels": "x", "real-warm-start": "^"}  # the transfer curve's controls


def curve_plot(points: list[dict[str, Any]]) -> bytes | None:
    """Mean score (error bars: the spread over seeds) against synthetic size, one panel per benchmark and model, one
    line per selection; controls as separate markers, set a little apart where they share a size. PNG bytes; None
    without points beyond real only."""
    if not any(p["synthetic_size"] for p in points):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted({(p["benchmark"], p["model"]) for p in points})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, (benchmark, model) in zip(axes[0], panels):
        groups: dict[tuple[str, str], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        mine = [p for p in points if (p["benchmark"], p["model"]) == (benchmark, model)]
        for p in mine:
            group = ("none", "none") if p["synthetic_size"] == 0 else (p["selection"], p["control"])
            groups[group][p["synthetic_size"]].append(p[p["metric"]])
        real = groups.get(("none", "none"), {}).get(0)
        for (selection, control), by_size in sorted(groups.items()):
            if control == "none":
                by_size = ({0: real} if real and 0 not in by_size else {}) | by_size  # every line starts at 0
            sizes = sorted(by_size)
            means = [statistics.mean(by_size[s]) for s in sizes]
            spread = [statistics.stdev(by_size[s]) if len(by_size[s]) > 1 else 0.0 for s in sizes]
            name = f"selection {selection}" if control == "none" else f"control: {control} ({selection})"
            name = "real only" if sizes == [0] else name
            style = {"marker": "o"} if control == "none" else {"marker": MARKERS.get(control, "s"), "linestyle": ""}
            shift = 0.015 * max(by_size) * (list(MARKERS).index(control) * 2 - 1) if control in MARKERS else 0.0
            ax.errorbar([x + shift for x in sizes], means, yerr=spread, capsize=3, label=name, **style)
        ax.set_xlabel("synthetic records pre-trained on")
        ax.set_ylabel(mine[0]["metric"])
        ax.set_title(f"{benchmark} / {model}", fontsize=10)
        ax.legend(fontsize=7)
    return png(fig)


def label_plot(benchmark: str, reports: list[dict[str, Any]]) -> bytes:
    """Label distributions side by side; the last report is the real benchmark."""
    real = reports[-1]["label_distribution"]
    labels = list(real)
    series = []
    for k, r in enumerate(reports):
        # a synthetic set in another label set is shown mapped into the benchmark's (real + difference)
        diff = r.get("against", {}).get("difference") if k < len(reports) - 1 else None
        own = r["label_distribution"]
        series.append((r["name"], [real[lab] + diff[lab] if diff else own.get(lab, 0.0) for lab in labels]))
    return grouped_bars(labels, series, "fraction of turns", f"Label distribution ({benchmark} labels)")


def diversity_plot(benchmark: str, reports: list[dict[str, Any]]) -> bytes | None:
    """Semantic diversity per label side by side (None without ``--semantic`` statistics)."""
    per = [(r["name"], (r.get("semantic_diversity") or {}).get("per_label", {})) for r in reports]
    labels = [lab for lab in reports[-1]["label_distribution"] if any(lab in p for _, p in per)]
    if not labels:
        return None
    series = [(name, [p.get(lab, 0.0) for lab in labels]) for name, p in per]
    return grouped_bars(labels, series, "mean pairwise cosine distance", f"Semantic diversity per label ({benchmark})")


def grouped_bars(labels: list[str], series: list[tuple[str, list[float]]], ylabel: str, title: str) -> bytes:
    """One group of bars per label, one bar per series; PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 3))
    width = 0.8 / len(series)
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(series):
        ax.bar(x + k * width, values, width, label=name)
    ax.set_xticks(x + width * (len(series) - 1) / 2, labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return png(fig)


def png(fig) -> bytes:
    """The figure as PNG bytes (closed afterwards)."""
    import io

    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
