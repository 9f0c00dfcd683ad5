"""``emosynth report RUN_DIR``: one self-contained HTML file (plots embedded) and a Markdown summary.

Sections: dataset cards (model, prompt version, counts, rejection reasons of every synthetic dataset),
quality tables and plots (label distributions side by side, semantic diversity per label), label fidelity
when ``verify`` reports are there, the F1 table (mean and spread over seeds), the transfer curve when the
experiment has ``sizes`` or ``controls`` (``experiment.curve``) and the Friedman result with its critical-difference
diagram.
"""

from __future__ import annotations

import base64
import json
import logging
import statistics
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from emosynth.data.io import sidecar
from emosynth.data.paths import shown
from emosynth.errors import ConfigError
from emosynth.experiment.config import ExperimentConfig
from emosynth.experiment.curve import curve_points
from emosynth.experiment.runner import collect
from emosynth.experiment.stats import cd_diagram
from emosynth.report.tables import table_rows
from emosynth.review.summary import human_figures

log = logging.getLogger(__name__)
MARKERS = {"shuffled-labels": "x", "real-warm-start": "^"}  # the transfer curve's controls


def dataset_card(name: str, path: str) -> dict[str, Any]:
    """What a synthetic dataset is: its run config and summary sidecars, when they are there."""
    p = Path(path)
    card: dict[str, Any] = {"name": name, "path": shown(p)}
    for kind in ("config", "summary", "fidelity", "filter"):
        side = sidecar(p, f"{kind}.json")
        card[kind] = json.loads(side.read_text(encoding="utf-8")) if side.is_file() else None
    # a copy written by `verify --drop-disagreeing`: the filter and its source are recorded beside it
    if (applied := card.pop("filter")) and applied.get("source"):
        applied["source"] = Path(applied["source"]).name
    card["filtered_from"] = applied
    card["human"] = human_figures(p) if p.is_file() else None
    return card


def quality(config: ExperimentConfig, root: Path, semantic: bool = True) -> dict[str, list[dict[str, Any]]]:
    """``inspect`` of every synthetic dataset next to its benchmark's train split.

    Cached in quality.json, keyed by the datasets' content (sha256), benchmarks and the semantic flag, so a fresh
    checkout of a committed experiment reuses it.
    """
    from emosynth.data.io import sha256_file

    cache = root / "quality.json"
    key = {
        "semantic": semantic,
        "datasets": {
            f"{b}/{name}": sha256_file(path)
            for b, sets in sorted(config.synthetic.items())
            for name, path in sorted(sets.items())
        },
        "benchmarks": config.benchmarks,
        "data_root": config.data_root,
    }
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["reports"]
    from emosynth.quality.corpus import load_corpus
    from emosynth.quality.describe import describe_corpus
    from emosynth.quality.diversity import SentenceEncoder

    encoder = SentenceEncoder() if semantic else None
    out: dict[str, list[dict[str, Any]]] = {}
    for benchmark in config.benchmarks:
        real = load_corpus(f"{benchmark}:train", config.data_root)
        reports = [
            describe_corpus(load_corpus(path, name=name), real, encoder)
            for name, path in sorted(config.synthetic.get(benchmark, {}).items())
        ]
        reports.append(describe_corpus(real, real, encoder))
        out[benchmark] = reports
    cache.write_text(json.dumps({"key": key, "reports": out}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def f1_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and spread over seeds per benchmark, model and treatment."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["benchmark"], r["model"], r["treatment"])].append(r)
    table = []
    for (benchmark, model, treatment), rs in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "real", kv[0][2])
    ):
        scores = [r["score"] for r in rs]
        table.append(
            {
                "benchmark": benchmark,
                "model": model,
                "treatment": treatment,
                "metric": rs[0]["metric"],
                "seeds": len(rs),
                "mean": statistics.fmean(scores),
                "std": statistics.stdev(scores) if len(scores) > 1 else None,
                "macro_f1": statistics.fmean(r["macro_f1"] for r in rs),
            }
        )
    return table


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


def build_report(root: str | Path, semantic: bool = True) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` (and ``plots/*.png``, ``friedman.json``) into ``root``."""
    root = Path(root)
    if not (root / "config.yaml").is_file():
        raise ConfigError(f"{root} is not an experiment directory (no config.yaml); run `emosynth experiment` first")
    whole = ExperimentConfig.load(root / "config.yaml", only=())
    config = whole.ready()  # a grid run part-way (experiment --benchmark): the benchmarks whose files exist
    rows, stats = collect(config, root)
    plots_dir = root / "plots"
    plots_dir.mkdir(exist_ok=True)
    images: dict[str, str] = {}

    def keep(name: str, png: bytes | None) -> None:
        if png is not None:
            (plots_dir / name).write_bytes(png)
            images[name] = base64.b64encode(png).decode()

    if cd_diagram(stats, plots_dir / "cd_diagram.png"):
        keep("cd_diagram.png", (plots_dir / "cd_diagram.png").read_bytes())
    if config.sizes or config.controls:
        keep("curve.png", curve_plot(curve_points(config, rows)))
    qual = quality(config, root, semantic)
    for benchmark, reports in qual.items():
        keep(f"labels_{benchmark}.png", label_plot(benchmark, reports))
        keep(f"diversity_{benchmark}.png", diversity_plot(benchmark, reports))
    context = {
        "config": whole,
        "cards": [
            dataset_card(f"{b}/{name}", path)
            for b, sets in sorted(config.synthetic.items())
            for name, path in sorted(sets.items())
        ],
        "quality": {b: {"names": [r["name"] for r in reps], "rows": table_rows(reps)} for b, reps in qual.items()},
        "f1": f1_table(rows),
        "n_cells": len(whole.cells()),
        "n_done": len(rows),
        "stats": stats,
        "images": images,
    }
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("emosynth").joinpath(f"report/templates/{name}").read_text(encoding="utf-8")
        ),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=4: "-" if v is None else f"{v:.{d}f}"
    html, md = root / "report.html", root / "report.md"
    html.write_text(env.get_template("report.html.j2").render(**context), encoding="utf-8")
    md.write_text(env.get_template("report.md.j2").render(**context), encoding="utf-8")
    return html, md
