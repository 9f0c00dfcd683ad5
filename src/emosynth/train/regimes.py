"""Training regimes of the synthetic-to-real protocol, one results JSON per run.

- ``real``: the real train split only.
- ``synthetic->real``: pre-train on synthetic dialogues, then fine-tune on the real train split.
- ``mixed``: both at once.
- ``synthetic``: synthetic only, tested on real.

Model selection always uses the real dev split; the test split is evaluated once, at the end.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from emosynth.data.benchmarks import load_split, taxonomy_name
from emosynth.data.io import read_records, sha256_file, write_atomic
from emosynth.errors import ConfigError
from emosynth.records import Example
from emosynth.taxonomy import get_taxonomy
from emosynth.train.items import example_items, turn_items
from emosynth.train.loop import Trainer, TrainingArguments
from emosynth.train.models import build_model

log = logging.getLogger(__name__)
REGIMES = ("real", "synthetic->real", "mixed", "synthetic")


@dataclass
class RunConfig:
    benchmark: str
    model: str
    regime: str = "real"
    synthetic: str | None = None
    seed: int = 0
    backbone: str | None = None
    max_length: int | None = None
    data_root: str | None = None
    pretrain_epochs: int = 1
    save_model: bool = True
    training: TrainingArguments = field(default_factory=TrainingArguments)

    def __post_init__(self):
        if self.regime not in REGIMES:
            raise ConfigError(f"Unknown regime '{self.regime}'; expected one of {', '.join(REGIMES)}")
        if self.regime != "real" and not self.synthetic:
            raise ConfigError(f"Regime '{self.regime}' needs --synthetic DATA.jsonl")


def items_of(records: list, taxonomy) -> list:
    """Classification items of dialogues (every turn) or examples."""
    if records and isinstance(records[0], Example):
        return example_items(records, taxonomy)
    return turn_items(records, taxonomy)


def run(config: RunConfig, out_dir: str | Path) -> dict:
    """Train, select on dev, test once; saves the model and ``results.json`` in ``out_dir``."""
    out_dir = Path(out_dir)
    tax = get_taxonomy(taxonomy_name(config.benchmark))
    split = {s: items_of(load_split(config.benchmark, s, config.data_root), tax) for s in ("train", "dev", "test")}
    synthetic = items_of(read_records(config.synthetic), tax) if config.synthetic else []
    torch.manual_seed(config.seed)  # the classification head is initialised here, before training seeds anything
    model = build_model(config.model, list(tax.labels), config.backbone, config.max_length, tax.multi_label)
    args = TrainingArguments(**{**asdict(config.training), "seed": config.seed})
    stages = []
    if config.regime == "synthetic->real":
        pre = TrainingArguments(**{**asdict(args), "epochs": config.pretrain_epochs})
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
    result = {
        "benchmark": config.benchmark,
        "model": config.model,
        "regime": config.regime,
        "seed": config.seed,
        "weighted_f1": test["weighted_f1"],
        "macro_f1": test["macro_f1"],
        "test": test,
        "stages": dict(stages),
        "config": asdict(config),
        "data": {
            "benchmark": config.benchmark,
            "n_train": len(split["train"]),
            "n_dev": len(split["dev"]),
            "n_test": len(split["test"]),
            "synthetic": config.synthetic,
            "synthetic_sha256": sha256_file(config.synthetic) if config.synthetic else None,
            "n_synthetic": len(synthetic),
        },
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    if config.save_model:
        model.save(out_dir / "model")
    # results.json appears whole or not at all: its presence marks a finished run (experiment resume)
    write_atomic(out_dir / "results.json", json.dumps(result, indent=1) + "\n")
    return result
