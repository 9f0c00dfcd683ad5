"""``emosynth report RUN_DIR``: one self-contained HTML file (plots embedded) and a Markdown summary.

Sections: dataset cards (one per synthetic file: model, prompt version, counts over all the runs that made it, the
grid's datasets that read it),
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
from dataclasses import replace
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
from emosynth.report.plots import curve_plot, diversity_plot, label_plot
from emosynth.report.tables import table_rows
from emosynth.review.summary import human_figures

log = logging.getLogger(__name__)


def dataset_cards(config: ExperimentConfig) -> list[dict[str, Any]]:
    """One card per synthetic file of a benchmark, naming every dataset of the grid that reads it and how (its first
    N records, a control)."""
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for b in sorted(config.synthetic):
        for name, path in by_file(config, b):
            names[(b, path)].append(name)
    cards = []
    for (b, path), used in names.items():
        uses = [f"{name} ({how})" for name in used if (how := use_of(config, name))]
        cards.append(dataset_card(f"{b}/{', '.join(used)}", path) | {"uses": uses})
    return cards


def use_of(config: ExperimentConfig, name: str) -> str:
    """How the grid reads a synthetic dataset: ``first N``, ``control: C``, both, or '' (all of it, as it is)."""
    parts = [f"first {config.sizes[name]}"] if name in config.sizes else []
    if name in config.controls:
        parts.append(f"control: {config.controls[name]}")
    return ", ".join(parts)


def by_file(config: ExperimentConfig, benchmark: str) -> list[tuple[str, str]]:
    """A benchmark's synthetic datasets (name, path), grouped by file, each file's subsets from the smallest."""
    sets = config.synthetic.get(benchmark, {})
    return sorted(sets.items(), key=lambda kv: (kv[1], config.sizes.get(kv[0], 0), kv[0]))


def dataset_card(name: str, path: str) -> dict[str, Any]:
    """What a synthetic dataset is: its run config and summary sidecars, when they are there."""
    p = Path(path)
    card: dict[str, Any] = {"name": name, "path": shown(p), "uses": []}
    for kind in ("config", "summary", "fidelity", "filter"):
        side = sidecar(p, f"{kind}.json")
        card[kind] = json.loads(side.read_text(encoding="utf-8")) if side.is_file() else None
    card["counts"] = file_counts(p, card["summary"])
    # a copy written by `verify --drop-disagreeing`: the filter and its source are recorded beside it
    if (applied := card.pop("filter")) and applied.get("source"):
        applied["source"] = Path(applied["source"]).name
    card["filtered_from"] = applied
    card["human"] = human_figures(p) if p.is_file() else None
    return card


def file_counts(path: Path, summary: dict[str, Any] | None) -> str | None:
    """What the file holds, from its summary: dialogues and turns, how many runs made them and at what cost, and the
    dialogues given up (its rejected records). A summary from before ``whole_file`` gives its last run's counts."""
    if not summary:
        return None
    if not (whole := summary.get("whole_file")):
        return f"accepted {summary['accepted']}, rejected {summary['rejected']} (its last run)"
    runs = len(summary.get("invocations") or [summary])
    rejected = sidecar(path, "rejected.jsonl")
    given_up = sum(1 for line in rejected.open(encoding="utf-8") if line.strip()) if rejected.is_file() else 0
    parts = [f"{whole['dialogues']:,} dialogues ({whole['turns']:,} turns) made in {runs} run{'s' * (runs != 1)}"]
    if whole.get("dialogues_per_hour"):
        parts.append(f"{whole['dialogues_per_hour']} dialogues/hour")
    if whole.get("candidates_per_kept_turn"):
        parts.append(f"{whole['candidates_per_kept_turn']} candidates per kept turn")
    return ", ".join([*parts, f"{given_up} given up"])


def quality(config: ExperimentConfig, root: Path, semantic: bool = True) -> dict[str, list[dict[str, Any]]]:
    """``inspect`` of every synthetic dataset next to its benchmark's train split.

    Cached in quality.json, keyed by the datasets' content (sha256), benchmarks and the semantic flag, so a fresh
    checkout of a committed experiment reuses it; a dataset inside the working directory is named relative to it.
    """
    from emosynth.data.io import sha256_file

    cache = root / "quality.json"
    key = {
        "semantic": semantic,
        "sizes": config.sizes,
        "controls": config.controls,
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
            describe_corpus(first(load_corpus(shown(path), name=name), config.sizes.get(name)), real, encoder)
            for name, path in by_file(config, benchmark)
            if name not in config.controls  # the texts of another dataset, or real turns: nothing new to describe
        ]
        reports.append(describe_corpus(real, real, encoder))
        out[benchmark] = reports
    cache.write_text(json.dumps({"key": key, "reports": out}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def first(corpus, size: int | None):
    """The corpus's first ``size`` records (all with None), as an experiment's ``sizes`` reads them."""
    return replace(corpus, dialogues=corpus.dialogues[:size], examples=corpus.examples[:size]) if size else corpus


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
        "cards": dataset_cards(config),
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
