"""Run an experiment grid cell by cell; a rerun skips finished cells and redoes a half-done one.

Layout of ``OUT`` (default ``experiments/<name>``)::

    config.yaml                     the configuration as run
    cells/<bench>/<model>/<treatment>/seed<k>/results.json
    cells/<bench>/<model>/<treatment>/seed<k>.lock   held while a process trains that cell
    results.jsonl                   one line per finished cell (rebuilt from the cells)
    friedman.json                   the statistics over treatments (see ``stats``)
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock, Timeout

from emosynth.data.io import read_records, records_sha256, sha256_file, write_atomic, write_jsonl
from emosynth.data.paths import shown
from emosynth.errors import ConfigError
from emosynth.experiment.config import Cell, ExperimentConfig
from emosynth.experiment.stats import analyse
from emosynth.train import regimes
from emosynth.train.args import TrainingArguments
from emosynth.train.metrics import HEADLINE
from emosynth.train.regimes import RunConfig

log = logging.getLogger(__name__)


def run_cell(cell: Cell, config: ExperimentConfig, out_dir: Path) -> dict[str, Any]:
    """Train and test one cell of the grid (``emosynth.train.regimes.run``); returns its results."""
    return regimes.run(run_config(cell, config), out_dir)


def run_config(cell: Cell, config: ExperimentConfig) -> RunConfig:
    """The training run of ``cell`` under the experiment's settings."""
    return RunConfig.create(
        **{k: getattr(cell, k) for k in ("benchmark", "model", "regime", "synthetic", "seed")},
        synthetic_size=config.sizes.get(cell.dataset),
        control=config.controls.get(cell.dataset, "none"),
        train_size=config.train_size,
        train_dialogues=config.train_dialogues,
        backbone=config.backbone,
        max_length=config.max_length.get(cell.model),
        data_root=config.root_of(cell.benchmark),
        knowledge=config.knowledge.get(cell.benchmark) if cell.model == "todkat" else None,
        relations=config.relations if cell.model == "todkat" else None,
        min_knowledge_coverage=config.min_knowledge_coverage,
        save_model=config.save_models,
        training=config.training,
    )


def settings(config: ExperimentConfig) -> dict[str, Any]:
    """What all cells of an experiment share and its results depend on."""
    return {
        "training": config.training.identity(),
        "max_length": config.max_length,
        "backbone": config.backbone,
        "data_root": {b: config.root_of(b) for b in config.benchmarks},
        "train_size": config.train_size,
        "train_dialogues": config.train_dialogues,
    }


def check_same_settings(
    config: ExperimentConfig, root: Path, only: Collection[str] | None = None, treatments: Collection[str] | None = None
) -> None:
    """Refuse to add cells trained with other settings to an experiment directory (results would mix)."""
    saved = root / "config.yaml"
    if not saved.is_file():
        return
    old, new = settings(ExperimentConfig.load(saved, only, treatments)), settings(config)
    for key, value in new.items():
        if old[key] != value:
            raise ConfigError(
                f"{root} holds results trained with {key}={old[key]!r}, not {value!r}; "
                "choose another --output (or remove that directory)"
            )
    # synthetic datasets are not compared by path here: each cell checks the content it trained on (``stale``)


def finished(cell: Cell, root: Path) -> dict[str, Any] | None:
    """The cell's results, or None when it has not finished (no or unreadable ``results.json``)."""
    path = cell.path(root) / "results.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def stale(cell: Cell, result: dict[str, Any], config: ExperimentConfig, digests: dict[Any, str]) -> str | None:
    """What differs between a finished cell's recorded run and the cell as configured now.

    The synthetic data and a todkat cell's knowledge file are compared by content (``digests``: the sha256 of each
    file now, by path, and of the records a cell reads, by path and size), not by path: a dataset rewritten in place
    (say, filtered again) makes its cells stale, the same file in another checkout does not, and neither do records
    appended past a cell's size (a sample still being generated while the cells of its first records run).
    """
    data, ran = result.get("data", {}), result.get("config", {})
    if "synthetic_records_sha256" in data:
        was, digest = data["synthetic_records_sha256"], digests.get((cell.synthetic, config.sizes.get(cell.dataset)))
    else:  # recorded before the records were hashed: the whole file
        was, digest = data.get("synthetic_sha256"), digests.get(cell.synthetic)
    if was != digest:
        return f"another version of {cell.synthetic} (sha256 {str(was)[:12]}..., the data now {str(digest)[:12]}...)"
    now = run_config(cell, config)
    knew = data.get("knowledge") or {}  # what a todkat cell recorded of its knowledge file
    if now.knowledge is not None or knew.get("file"):
        if knew.get("sha256") != digests.get(now.knowledge):
            now_file = now.knowledge or "none now"
            return f"another knowledge file ({now_file}), or another version of it (it grows as its pass goes on)"
    if cell.model == "todkat" and "architecture" in result:  # a cell recorded before it was recorded: unknown
        from emosynth.train.todkat import architecture

        for key, value in architecture().items():
            if result["architecture"].get(key) != value:
                return f"TODKAT {key}={result['architecture'].get(key)!r} (now {value!r})"
    keys = ("backbone", "max_length", "train_size", "train_dialogues", "synthetic_size", "control", "relations")
    # a cell recorded before a setting existed was run with its default
    before = {k: ran.get(k, RunConfig.model_fields[k].default) for k in keys}
    before |= TrainingArguments.recorded(ran).identity()
    for key, value in ({k: getattr(now, k) for k in keys} | now.training.identity()).items():
        if before[key] != value:
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
        "train_size": result.get("data", {}).get("n_train"),
    }


@contextmanager
def claim(cell: Cell, root: Path) -> Iterator[bool]:
    """Whether this process may train ``cell`` (True while it holds the cell's lock; False when another does).

    The lock is an OS file lock, so a killed process lets go of it and the next run starts its half-done cell again;
    two processes on one experiment (say, one per core) share out its cells instead of overwriting each other's.
    """
    where = cell.path(root)
    where.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(where.with_name(where.name + ".lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def run_experiment(
    config: ExperimentConfig,
    root: str | Path,
    run: Callable[[Cell, ExperimentConfig, Path], dict[str, Any]] = run_cell,
    limit: int | None = None,
    only: Collection[str] | None = None,
    treatments: Collection[str] | None = None,
    models: Collection[str] | None = None,
    threads: int | None = None,
    seeds: Collection[int] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run every unfinished cell (at most ``limit`` this time; of the benchmarks in ``only``, the treatments in
    ``treatments``, the models in ``models`` and the seeds in ``seeds`` if given, the config loaded with the same
    narrowing of benchmarks and treatments), then rebuild ``results.jsonl`` and ``friedman.json`` over all finished
    cells.

    Cells run seed by seed, so that a run stopped early leaves complete blocks for the statistics; a cell that another
    process is training (``claim``) is left to it. ``threads`` overrides the CPU threads of training (not a setting
    results are compared by: a machine shared with another job, say an LLM pass on the other core, runs its cells on
    fewer).
    """
    root = Path(root)
    for what, asked, grid in (("model", models, config.models), ("seed", seeds, config.seeds)):
        if asked is not None and (unknown := sorted(set(asked) - set(grid))):
            have = ", ".join(map(str, grid))
            raise ConfigError(f"{what} {', '.join(map(str, unknown))} is not in the grid; it has {have}")
    root.mkdir(parents=True, exist_ok=True)
    check_same_settings(config, root, only, treatments)
    part = config.part(only, treatments)
    cells = part.cells()
    records = {path: read_records(path) for path in {c.synthetic for c in cells if c.synthetic}}  # once per file
    counts = {path: len(rs) for path, rs in records.items()}
    digests: dict[Any, str] = {path: sha256_file(path) for path in records.keys() | set(part.knowledge.values())}
    for cell in cells:
        if cell.synthetic:
            size = config.sizes.get(cell.dataset)
            digests[cell.synthetic, size] = records_sha256(records[cell.synthetic][:size])
    for cell in cells:
        result = finished(cell, root)
        why = stale(cell, result, config, digests) if result is not None else None
        if why:
            raise ConfigError(
                f"{cell.path(root)} was trained with {why}; choose another --output or remove the old cells"
            )
        if result is None and cell.dataset in config.sizes and counts[cell.synthetic] < config.sizes[cell.dataset]:
            raise ConfigError(
                f"{shown(cell.synthetic)} has {counts[cell.synthetic]} records and '{cell.dataset}' asks for "
                f"{config.sizes[cell.dataset]}: generate the rest first (generation resumes), or run other "
                "treatments now (--treatment)"
            )
    saved = root / "config.yaml"  # only once the cells are known to agree with it
    if not (saved.is_file() and ExperimentConfig.load(saved, only, treatments) == config):
        # the resolved config, unless it is the very file the user wrote; dataset paths relative to the working
        # directory when inside it, so a committed experiment reads the same in another checkout
        resolved = config.model_dump()
        resolved["synthetic"] = {b: {k: shown(p) for k, p in sets.items()} for b, sets in config.synthetic.items()}
        resolved["knowledge"] = {b: shown(p) for b, p in config.knowledge.items()}
        if config.data_root is not None:
            roots = config.data_root
            resolved["data_root"] = {b: shown(p) for b, p in roots.items()} if isinstance(roots, dict) else shown(roots)
        saved.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
    # seed by seed: a run stopped part-way has whole blocks (every regime of a benchmark x model x seed) to test
    wanted = [c for c in cells if (models is None or c.model in models) and (seeds is None or c.seed in seeds)]
    todo = sorted((c for c in wanted if finished(c, root) is None), key=lambda c: c.seed)
    log.info("%d cells, %d finished, %d to run", len(cells), len(cells) - len(todo), len(todo))
    if threads is not None:  # how the cells run, not what they are (config.yaml above is as written)
        config = config.model_copy(update={"training": config.training.model_copy(update={"threads": threads})})
    ran = 0
    for n, cell in enumerate(todo, start=1):
        if limit is not None and ran >= limit:
            break
        name = f"{cell.benchmark} {cell.model} {cell.treatment} seed {cell.seed}"
        with claim(cell, root) as mine:
            if not mine or finished(cell, root) is not None:  # another process has it, or finished it meanwhile
                log.info("[%d/%d] %s: another process is training it or has finished it", n, len(todo), name)
                continue
            where = cell.path(root)
            if where.exists():  # killed half-way: start the cell again from nothing
                shutil.rmtree(where)
            start = time.perf_counter()
            log.info("[%d/%d] %s", n, len(todo), name)
            run(cell, config, where)
            ran += 1
            log.info("done in %.0f s", time.perf_counter() - start)
    return collect(config, root)


def collect(config: ExperimentConfig, root: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the finished cells and the statistics over them, written to ``results.jsonl`` and ``friedman.json``.

    This is the one place both files are written: ``emosynth experiment`` and ``emosynth report`` call it.
    """
    root = Path(root)
    rows = [row(c, r) for c in config.cells() if (r := finished(c, root)) is not None]
    stats = analyse(rows)
    write_jsonl(root / "results.jsonl", rows)
    write_atomic(root / "friedman.json", json.dumps(stats, indent=1) + "\n")
    return rows, stats
