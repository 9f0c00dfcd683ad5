"""Training regimes of the synthetic-to-real protocol, one results JSON per run.

- ``real``: the real train split only.
- ``synthetic->real``: pre-train on synthetic dialogues, then fine-tune on the real train split.
- ``mixed``: both at once.
- ``synthetic``: synthetic only, tested on real.

``synthetic_size`` keeps the first N dialogues (or examples) of the synthetic file, so that sizes of one run are
nested subsets; ``control`` replaces the synthetic data by a control (``CONTROLS``).

Model selection always uses the real dev split; the test split is evaluated once, at the end.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emosynth.data.benchmarks import ERC_BENCHMARKS, load_split, sample_dialogues, taxonomy_name
from emosynth.data.io import read_records, records_sha256, sha256_file, write_atomic
from emosynth.data.paths import shown
from emosynth.errors import ConfigError, validated
from emosynth.records import Example, relation_types
from emosynth.taxonomy import get_taxonomy
from emosynth.train.args import TrainingArguments
from emosynth.train.items import example_items, turn_items
from emosynth.train.loop import Trainer, set_threads
from emosynth.train.models import MODELS, build_model

log = logging.getLogger(__name__)
REGIMES = ("real", "synthetic->real", "mixed", "synthetic")
# What separates label signal from a warm start: the synthetic items with their labels permuted across the whole
# set, or as many real train items in their place (both seeded by the run's seed).
CONTROLS = ("none", "shuffled-labels", "real-warm-start")
# the least share of a part's turns TODKAT's knowledge must cover by default (RunConfig.min_knowledge_coverage)
MIN_KNOWLEDGE_COVERAGE = 0.9


class RunConfig(BaseModel):
    """One training run: benchmark, model, regime, synthetic data, seed, and how to train."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    benchmark: str
    model: str
    regime: str = "real"
    synthetic: str | None = None
    synthetic_size: int | None = Field(None, ge=1, description="the first N records of the synthetic file")
    control: str = "none"
    seed: int = 0
    train_size: int | None = Field(None, ge=1, description="a seeded sample of this many real train examples")
    # whole dialogues, the same for every seed: those a knowledge pass with --dialogues N (seed 0) asked about
    train_dialogues: int | None = Field(None, ge=1, description="a seeded sample of this many real train dialogues")
    backbone: str | None = None
    max_length: int | None = Field(None, ge=8)
    knowledge: str | None = None  # TODKAT's knowledge file (emosynth knowledge)
    relations: list[str] | None = None  # the relation types TODKAT reads of it (None: all; fewer for an ablation)
    # the least share of a part's turns (train, dev, test, synthetic) the knowledge must cover, else no training: the
    # others read only the empty slot, so a run before its knowledge pass has finished would be hours spent on another
    # model than the paper's (0: train anyway, e.g. a pilot)
    min_knowledge_coverage: float = Field(MIN_KNOWLEDGE_COVERAGE, ge=0, le=1)
    data_root: str | None = None
    save_model: bool = True
    training: TrainingArguments = TrainingArguments()

    @field_validator("regime", "model", "control")
    @classmethod
    def _known(cls, v: str, info) -> str:
        known = {"regime": REGIMES, "model": MODELS, "control": CONTROLS}[info.field_name]
        if v not in known:
            raise ValueError(f"unknown {info.field_name} '{v}'; expected one of {', '.join(known)}")
        return v

    @field_validator("relations")
    @classmethod
    def _relations(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else relation_types(v)

    @model_validator(mode="after")
    def _synthetic(self) -> RunConfig:
        if self.regime != "real" and not self.synthetic:
            raise ValueError(f"regime '{self.regime}' needs synthetic data (--synthetic DATA.jsonl)")
        if self.knowledge and self.model != "todkat":
            raise ValueError(f"knowledge is read by the todkat model only, not by '{self.model}'")
        if self.relations is not None and self.model != "todkat":
            raise ValueError(f"relations are of TODKAT's knowledge, not read by '{self.model}'")
        if self.train_dialogues and self.benchmark not in ERC_BENCHMARKS:
            raise ValueError(f"train_dialogues samples dialogues, and {self.benchmark} has none (use train_size)")
        return self

    @classmethod
    def create(cls, **values: Any) -> RunConfig:
        """Validated config; a bad value is a ``ConfigError`` naming the setting."""
        return validated(cls, **values)


def items_of(records: list, taxonomy, unmapped: Counter | None = None) -> list:
    """Classification items of dialogues (every turn) or examples (see ``example_items`` for ``unmapped``)."""
    if records and isinstance(records[0], Example):
        return example_items(records, taxonomy, unmapped)
    return turn_items(records, taxonomy)


def controlled(synthetic: list, control: str, real: list, seed: int) -> list:
    """The synthetic items, or their control: ``shuffled-labels`` keeps every text and permutes the labels across
    all items; ``real-warm-start`` takes as many real train items instead (both seeded)."""
    if control == "shuffled-labels":
        labels = [item.label for item in synthetic]
        random.Random(f"shuffle-{seed}").shuffle(labels)
        return [replace(item, label=label, soft=None) for item, label in zip(synthetic, labels)]
    if control == "real-warm-start":
        return random.Random(f"warm-{seed}").sample(real, min(len(synthetic), len(real)))
    return synthetic


def recorded_paths(config: RunConfig) -> dict[str, str]:
    """The run's other input paths as ``results.json`` records them: relative to the working directory when inside
    it, so that committed results read the same in another checkout (the backbone stays as given: an experiment
    compares it by value, ``experiment.runner.stale``)."""
    return {k: shown(v) for k in ("knowledge", "data_root") if (v := getattr(config, k))}


def knowledge_record(model, path: str | None, read: str | None, parts: dict[str, list], least: float) -> dict | None:
    """TODKAT's knowledge file with the sha256 it had when the model read it (``read``; None when the file changed
    during the read, so an experiment takes the cell as stale) and the share of each part's turns it covers; a part
    covered less than ``least`` is a ``ConfigError``, and one not wholly covered a warning (those turns read only the
    empty slot: a model tested on them is not quite the paper's); None for the other models."""
    if not hasattr(model, "coverage"):
        return None
    coverage = {name: model.coverage(items) for name, items in parts.items()}
    source = shown(path) if path else "no --knowledge file"
    for name, share in coverage.items():
        if share is not None and share < least:
            raise ConfigError(
                f"TODKAT: {source} has knowledge for {100 * share:.0f}% of the {name} turns, less than "
                f"min_knowledge_coverage {least}: `emosynth knowledge BENCH:SPLIT -o FILE` adds a split "
                "(min_knowledge_coverage 0 trains anyway, those turns reading an empty slot)"
            )
        if share is not None and share < 1:
            log.warning("TODKAT: knowledge for %.0f%% of the %s turns (%s)", 100 * share, name, source)
    if path and sha256_file(path) != read:
        log.warning("%s changed while the model read it; its cells will count as stale", shown(path))
        read = None
    return {"file": shown(path) if path else None, "sha256": read, "coverage": coverage}


def run(config: RunConfig, out_dir: str | Path) -> dict:
    """Train, select on dev, test once; saves the model and ``results.json`` in ``out_dir``."""
    out_dir = Path(out_dir)
    set_threads(config.training)  # for the encodings before training too
    tax = get_taxonomy(taxonomy_name(config.benchmark))
    loaded = {s: load_split(config.benchmark, s, config.data_root) for s in ("train", "dev", "test")}
    split = {s: items_of(records, tax) for s, records in loaded.items()}
    n_real = len(split["train"])
    if config.train_dialogues is not None:  # whole dialogues, the same sample for every seed
        split["train"] = items_of(sample_dialogues(loaded["train"], config.train_dialogues), tax)
    if config.train_size is not None and config.train_size < len(split["train"]):  # low-resource: same in every regime
        split["train"] = random.Random(f"train-{config.seed}").sample(split["train"], config.train_size)
    whole = sha256_file(config.synthetic) if config.synthetic else None  # as read: generation may append to it
    records = read_records(config.synthetic) if config.synthetic else []
    if config.synthetic_size is not None and len(records) < config.synthetic_size:
        raise ConfigError(
            f"{shown(config.synthetic)} has {len(records)} records, fewer than the {config.synthetic_size} asked "
            "for (synthetic_size): generate the rest first (generation resumes) or ask for fewer"
        )
    records = records[: config.synthetic_size]
    unmapped: Counter = Counter()  # synthetic examples with no label in the benchmark's set (Pillars' neutral in ISEAR)
    synthetic = controlled(items_of(records, tax, unmapped), config.control, split["train"], config.seed)
    if unmapped:
        log.warning("%d synthetic examples have no %s label and are left out", unmapped.total(), tax.name)
    torch.manual_seed(config.seed)  # the classification head is initialised here, before training seeds anything
    read = sha256_file(config.knowledge) if config.knowledge else None  # a knowledge pass may be writing to it
    model = build_model(
        config.model,
        list(tax.labels),
        config.backbone,
        config.max_length,
        tax.multi_label,
        config.knowledge,
        config.relations,
    )
    parts = split | {"synthetic": synthetic}
    knowledge = knowledge_record(model, config.knowledge, read, parts, config.min_knowledge_coverage)
    args = config.training.model_copy(update={"seed": config.seed})
    stages = []
    if config.regime == "synthetic->real":
        pre = args.model_copy(update={"epochs": args.pretrain_epochs})
        stages.append(("pretrain", Trainer(model, pre, synthetic, split["dev"], config.benchmark).train()))
    train_set = {
        "real": split["train"],
        "synthetic->real": split["train"],
        "mixed": split["train"] + synthetic,
        "synthetic": synthetic,
    }[config.regime]
    trainer = Trainer(model, args, train_set, split["dev"], config.benchmark)
    stages.append(("train", trainer.train()))
    test = trainer.evaluate(split["test"])
    synthetic_path = shown(config.synthetic) if config.synthetic else None  # relative: results read the same anywhere
    result = {
        "benchmark": config.benchmark,
        "model": config.model,
        "regime": config.regime,
        "seed": config.seed,
        "weighted_f1": test["weighted_f1"],
        "macro_f1": test["macro_f1"],
        "test": test,
        **({"decoding": model.config.decoding} if hasattr(model, "decodings") else {}),  # TODKAT's, chosen on dev
        **({"architecture": model.architecture()} if hasattr(model, "architecture") else {}),  # TODKAT's settings
        "stages": dict(stages),
        "config": config.model_dump() | {"synthetic": synthetic_path} | recorded_paths(config),
        "data": {
            "benchmark": config.benchmark,
            "n_train": len(split["train"]),
            "n_train_available": n_real,
            "n_dev": len(split["dev"]),
            "n_test": len(split["test"]),
            "synthetic": synthetic_path,
            "synthetic_sha256": whole,
            # the records trained on: unchanged while a file is appended to past a cell's synthetic_size
            "synthetic_records_sha256": records_sha256(records) if config.synthetic else None,
            "n_synthetic": len(synthetic),
            "synthetic_unmapped": dict(unmapped.most_common()),
            "synthetic_size": config.synthetic_size,
            "control": config.control,
            "knowledge": knowledge,
        },
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    if config.save_model:
        model.save(out_dir / "model")
    # results.json appears whole or not at all: its presence marks a finished run (experiment resume)
    write_atomic(out_dir / "results.json", json.dumps(result, indent=1) + "\n")
    return result
