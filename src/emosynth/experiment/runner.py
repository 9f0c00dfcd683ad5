"""Run an experiment grid cell by cell; a rerun skips finished cells and redoes a half-done one.

Layout of ``OUT`` (default ``experiments/<name>``)::

    config.yaml                     the configuration as run
    cells/<bench>/<model>/<treatment>/seed<k>/results.json
    results.jsonl                   one line per finished cell (rebuilt from the cells)
    friedman.json                   the statistics over treatments (see ``stats``)
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from emosynth.data.io import sha256_file, write_atomic
from emosynth.errors import ConfigError
from emosynth.experiment.config import Cell, ExperimentConfig
from emosynth.train.metrics import HEADLINE

log = logging.getLogger(__name__)


def run_cell(cell: Cell, config: ExperimentConfig, out_dir: Path) -> dict[str, Any]:
    from emosynth.train.loop import TrainingArguments
    from emosynth.train.regimes import RunConfig, run

    t = config.training
    args = TrainingArguments(
        epochs=t.epochs, learning_rate=t.learning_rate, batch_size=t.batch_size, class_weights=t.class_weights
    )
    run_config = RunConfig(
        cell.benchmark,
        cell.model,
        cell.regime,
        cell.synthetic,
        cell.seed,
        backbone=config.backbone,
        max_length=config.max_length.get(cell.model),
        data_root=config.data_root,
        pretrain_epochs=t.pretrain_epochs,
        save_model=config.save_models,
        training=args,
    )
    return run(run_config, out_dir)


SETTINGS = ("training", "max_length", "backbone", "data_root")


def check_same_settings(config: ExperimentConfig, root: Path) -> None:
    """Refuse to add cells trained with other settings to an experiment directory (results would mix)."""
    saved = root / "config.yaml"
    if not saved.is_file():
        return
    old = ExperimentConfig.load(saved)
    for key in SETTINGS:
        if getattr(old, key) != getattr(config, key):
            raise ConfigError(
                f"{root} holds results trained with {key}={getattr(old, key)!r}, not {getattr(config, key)!r}; "
                "choose another --output (or remove that directory)"
            )
    # synthetic datasets are not compared by path here: each cell checks the content it trained on (``stale``)


def finished(cell: Cell, root: Path) -> dict[str, Any] | None:
    path = cell.path(root) / "results.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def stale(cell: Cell, result: dict[str, Any], config: ExperimentConfig, digest: str | None) -> str | None:
    """What differs between a finished cell's recorded run and the cell as configured now.

    The synthetic data is compared by content (``digest``, the sha256 of ``cell.synthetic`` now), not by path: a
    dataset rewritten in place (say, filtered again) makes its cells stale, and the same file in another checkout
    does not.
    """
    ran = result.get("config", {})
    t = config.training
    now = {
        "synthetic data (sha256)": digest,
        "backbone": config.backbone,
        "max_length": config.max_length.get(cell.model),
        "pretrain_epochs": t.pretrain_epochs,
        "epochs": t.epochs,
        "learning_rate": t.learning_rate,
        "batch_size": t.batch_size,
        "class_weights": t.class_weights,
    }
    before = (
        {"synthetic data (sha256)": result.get("data", {}).get("synthetic_sha256")}
        | {k: ran.get(k) for k in ("backbone", "max_length", "pretrain_epochs")}
        | {k: ran.get("training", {}).get(k) for k in ("epochs", "learning_rate", "batch_size", "class_weights")}
    )
    for key, value in now.items():
        if before[key] != value:
            if key.startswith("synthetic"):
                was = str(before[key])[:12]
                return f"another version of {cell.synthetic} (sha256 {was}..., the file now {value[:12]}...)"
            return f"{key}={before[key]!r} (now {value!r})"
    return None


def row(cell: Cell, result: dict[str, Any]) -> dict[str, Any]:
    """The flat line of a finished cell in ``results.jsonl``."""
    metric = HEADLINE.get(cell.benchmark.removesuffix("-full"), "weighted_f1")
    return cell.to_dict() | {
        "metric": metric,
        "score": result.get(metric, result["test"].get(metric)),
        "weighted_f1": result["weighted_f1"],
        "macro_f1": result["macro_f1"],
        "train_seconds": sum(s.get("train_seconds", 0) for s in result.get("stages", {}).values()),
        "n_synthetic": result.get("data", {}).get("n_synthetic"),
    }


def run_experiment(
    config: ExperimentConfig,
    root: str | Path,
    run: Callable[[Cell, ExperimentConfig, Path], dict[str, Any]] = run_cell,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Run every unfinished cell (at most ``limit`` this time), then rebuild ``results.jsonl``.

    Cells run seed by seed, so that a run stopped early leaves complete blocks for the statistics.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    check_same_settings(config, root)
    cells = config.cells()
    digests = {path: sha256_file(path) for path in {c.synthetic for c in cells if c.synthetic}}  # once per dataset
    for cell in cells:
        result = finished(cell, root)
        why = stale(cell, result, config, digests.get(cell.synthetic)) if result is not None else None
        if why:
            raise ConfigError(
                f"{cell.path(root)} was trained with {why}; choose another --output or remove the old cells"
            )
    saved = root / "config.yaml"  # only once the cells are known to agree with it
    if not (saved.is_file() and ExperimentConfig.load(saved) == config):
        # the resolved config (absolute dataset paths), unless it is the very file the user wrote
        saved.write_text(yaml.safe_dump(config.model_dump(), sort_keys=False), encoding="utf-8")
    # seed by seed: a run stopped part-way has whole blocks (every regime of a benchmark x model x seed) to test
    todo = sorted((c for c in cells if finished(c, root) is None), key=lambda c: c.seed)
    log.info("%d cells, %d finished, %d to run", len(cells), len(cells) - len(todo), len(todo))
    for n, cell in enumerate(todo[:limit] if limit is not None else todo, start=1):
        where = cell.path(root)
        if where.exists():  # killed half-way: start the cell again from nothing
            shutil.rmtree(where)
        start = time.perf_counter()
        log.info("[%d/%d] %s %s %s seed %d", n, len(todo), cell.benchmark, cell.model, cell.treatment, cell.seed)
        run(cell, config, where)
        log.info("done in %.0f s", time.perf_counter() - start)
    return collect(config, root)


def collect(config: ExperimentConfig, root: str | Path) -> list[dict[str, Any]]:
    """Rows of the finished cells, also written to ``results.jsonl``."""
    root = Path(root)
    rows = [row(c, r) for c in config.cells() if (r := finished(c, root)) is not None]
    write_atomic(root / "results.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    return rows
