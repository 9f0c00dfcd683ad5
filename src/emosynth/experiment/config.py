"""The experiment grid: benchmarks x models x regimes (x synthetic datasets) x seeds, from one YAML file."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emosynth.data.paths import shown
from emosynth.errors import ConfigError, validated
from emosynth.records import relation_types
from emosynth.train.args import TrainingArguments
from emosynth.train.models import MODELS
from emosynth.train.regimes import MIN_KNOWLEDGE_COVERAGE, REGIMES


class ExperimentConfig(BaseModel):
    """``emosynth experiment CONFIG.yaml``; see ``experiments/*/config.yaml`` for a worked example.

    ``synthetic`` names the synthetic datasets per benchmark (``{meld: {balanced: PATH, natural: PATH}}``);
    every regime but ``real`` runs once per named dataset. Relative paths are looked up from the config's
    folder first, then from the current directory. ``sizes`` takes the first N records of a named dataset (the same
    file under several names gives nested subsets: a size curve) and ``controls`` turns a named dataset into a
    control (``shuffled-labels``, ``real-warm-start``; see ``train.regimes.controlled``). ``knowledge`` gives the
    ``todkat`` cells of a benchmark their knowledge file (``{meld: data/knowledge/meld.jsonl}``), and ``relations``
    the relation types they read of it (all by default; fewer for an ablation).
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    benchmarks: list[str]
    models: list[str] = ["utterance"]
    regimes: list[str] = ["real", "synthetic->real"]
    synthetic: dict[str, dict[str, str]] = {}
    sizes: dict[str, int] = {}
    controls: dict[str, str] = {}
    seeds: list[int] = [0, 1, 2]
    train_size: int | None = Field(None, ge=1, description="a seeded sample of the real train split (low-resource)")
    train_dialogues: int | None = Field(None, ge=1, description="a seeded sample of the real train dialogues")
    training: TrainingArguments = TrainingArguments()
    max_length: dict[str, int] = {}
    backbone: str | None = None
    data_root: str | dict[str, str] | None = None  # one folder, or each benchmark's own copy (ISEAR: the CSV)
    knowledge: dict[str, str] = {}  # TODKAT's knowledge file per benchmark (emosynth knowledge)
    relations: list[str] | None = None  # the relation types the todkat cells read (None: all)
    # a todkat cell whose knowledge covers less of a part's turns fails before training (train.regimes.RunConfig)
    min_knowledge_coverage: float = Field(MIN_KNOWLEDGE_COVERAGE, ge=0, le=1)
    save_models: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[\w.-]+", v):
            raise ValueError("use letters, digits, '.', '_' or '-' only")
        return v

    @field_validator("regimes", "models")
    @classmethod
    def _known(cls, v: list[str], info) -> list[str]:
        known = {"regimes": REGIMES, "models": MODELS}[info.field_name]
        for name in v:
            if name not in known:
                raise ValueError(f"unknown {info.field_name[:-1]} '{name}'; expected one of {', '.join(known)}")
        return v

    @field_validator("benchmarks")
    @classmethod
    def _benchmarks(cls, v: list[str]) -> list[str]:
        from emosynth.data.benchmarks import ERC_BENCHMARKS, EXAMPLE_BENCHMARKS

        known = (*ERC_BENCHMARKS, *EXAMPLE_BENCHMARKS)
        for b in v:
            if b not in known:
                raise ValueError(f"unknown benchmark '{b}'; expected one of {', '.join(known)}")
        return v

    @field_validator("benchmarks", "models", "regimes", "seeds")
    @classmethod
    def _unique(cls, v: list) -> list:
        if len(set(v)) != len(v):
            raise ValueError(f"{v} repeats an entry")
        return v

    @field_validator("synthetic")
    @classmethod
    def _dataset_names(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for sets in v.values():
            for name in sets:
                if not re.fullmatch(r"[\w.-]+", name):
                    raise ValueError(f"dataset name '{name}': use letters, digits, '.', '_' or '-' only")
        return v

    @field_validator("max_length")
    @classmethod
    def _max_length(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = [k for k in v if k not in MODELS]
        if unknown:
            raise ValueError(f"max_length for unknown model '{unknown[0]}'; expected keys among {', '.join(MODELS)}")
        return v

    @model_validator(mode="after")
    def _dataset_options(self) -> ExperimentConfig:
        from emosynth.train.regimes import CONTROLS

        names = {name for sets in self.synthetic.values() for name in sets}
        for field, options in (("sizes", self.sizes), ("controls", self.controls)):
            for name in options:
                if name not in names:
                    raise ValueError(f"{field}: '{name}' is not a synthetic dataset name ({', '.join(sorted(names))})")
        for name, control in self.controls.items():
            if control not in CONTROLS:
                raise ValueError(f"controls: '{control}' for '{name}' is not one of {', '.join(CONTROLS)}")
        if any(n < 1 for n in self.sizes.values()):
            raise ValueError("sizes must be at least 1")
        return self

    @field_validator("relations")
    @classmethod
    def _relations(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else relation_types(v)

    @model_validator(mode="after")
    def _roots(self) -> ExperimentConfig:
        for field, value in (("data_root", self.data_root), ("knowledge", self.knowledge)):
            if isinstance(value, dict) and (unknown := set(value) - set(self.benchmarks)):
                raise ValueError(f"{field} names '{sorted(unknown)[0]}', which is not in benchmarks")
        if self.knowledge and "todkat" not in self.models:
            raise ValueError("knowledge is TODKAT's; add todkat to models or leave knowledge out")
        if self.relations is not None and "todkat" not in self.models:
            raise ValueError("relations are TODKAT's; add todkat to models or leave relations out")
        return self

    @model_validator(mode="after")
    def _complete(self) -> ExperimentConfig:
        if any(r != "real" for r in self.regimes):
            missing = [b for b in self.benchmarks if not self.synthetic.get(b)]
            if missing:
                raise ValueError(f"regimes other than real need synthetic datasets for: {', '.join(missing)}")
        return self

    @classmethod
    def load(
        cls, path: str | Path, only: Collection[str] | None = None, treatments: Collection[str] | None = None
    ) -> ExperimentConfig:
        """Read and validate an experiment YAML; dataset paths resolved from the file's folder, then from here.

        ``only`` (benchmark names) and ``treatments`` (``real`` or synthetic dataset names): the files of the
        others need not exist yet (their cells wait).
        """
        from emosynth.taxonomy import load_yaml

        path = Path(path)
        raw = load_yaml(path)
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping of experiment settings")
        config = validated(cls, str(path), **raw)
        if only is not None and (unknown := sorted(set(only) - set(config.benchmarks))):
            listed = ", ".join(config.benchmarks)
            raise ConfigError(f"{path}: benchmark '{unknown[0]}' is not in its benchmarks ({listed})")
        names = {"real"} | {name for sets in config.synthetic.values() for name in sets}
        if treatments is not None and (unknown := sorted(set(treatments) - names)):
            raise ConfigError(f"{path}: treatment '{unknown[0]}' is neither real nor a synthetic dataset name")

        def needed(b: str, name: str | None = None) -> bool:
            return (only is None or b in only) and (treatments is None or name is None or name in treatments)

        config.synthetic = {
            b: {name: str(_resolve(path, p, required=needed(b, name))) for name, p in sets.items()}
            for b, sets in config.synthetic.items()
        }
        config.knowledge = {
            b: str(_resolve(path, p, "knowledge file", required=needed(b))) for b, p in config.knowledge.items()
        }
        if isinstance(config.data_root, dict):
            roots = config.data_root.items()
            config.data_root = {
                b: str(_resolve(path, p, "data_root", folder=True, required=needed(b))) for b, p in roots
            }
        elif config.data_root is not None:
            config.data_root = str(_resolve(path, config.data_root, "data_root", folder=True))
        return config

    def ready(self) -> ExperimentConfig:
        """The grid narrowed to what can be read of a grid run part-way (``load(path, only=...)``; a report, the
        curve): its synthetic datasets that exist, on the benchmarks with one of them at least (or none needed) and
        their knowledge file if they have one."""
        present = {b: {k: p for k, p in sets.items() if Path(p).is_file()} for b, sets in self.synthetic.items()}

        def readable(b: str) -> bool:
            knows = b not in self.knowledge or Path(self.knowledge[b]).is_file()
            return bool(present.get(b) or not self.synthetic.get(b)) and knows

        part = self.part(b for b in self.benchmarks if readable(b))
        synthetic = {b: sets for b, sets in present.items() if b in part.benchmarks}
        return part if synthetic == part.synthetic else part.model_copy(update={"synthetic": synthetic})

    def part(self, benchmarks: Iterable[str] | None, treatments: Collection[str] | None = None) -> ExperimentConfig:
        """The grid of ``benchmarks`` only (None: all of it), with their datasets and knowledge files; with
        ``treatments``, only those (``real``, synthetic dataset names)."""
        wanted = set(self.benchmarks if benchmarks is None else benchmarks)
        keep = [b for b in self.benchmarks if b in wanted]
        if keep == self.benchmarks and treatments is None:
            return self
        narrowed = {"synthetic": self.synthetic, "knowledge": self.knowledge}
        update: dict[str, Any] = {"benchmarks": keep}
        update |= {k: {b: v for b, v in d.items() if b in keep} for k, d in narrowed.items()}
        if treatments is not None:
            update["regimes"] = [r for r in self.regimes if r != "real" or "real" in treatments]
            sets = update["synthetic"].items()
            update["synthetic"] = {b: {k: p for k, p in named.items() if k in treatments} for b, named in sets}
        return self.model_copy(update=update)

    def root_of(self, benchmark: str) -> str | None:
        """Where ``benchmark`` is read from (None: the shared data folder, see ``emosynth.data.paths``)."""
        return self.data_root.get(benchmark) if isinstance(self.data_root, dict) else self.data_root

    def cells(self) -> list[Cell]:
        """Every run of the grid, in a stable order (benchmark, model, treatment, seed)."""
        out = []
        for benchmark in self.benchmarks:
            for model in self.models:
                for regime in self.regimes:
                    datasets = [(None, None)] if regime == "real" else sorted(self.synthetic[benchmark].items())
                    for name, path in datasets:
                        for seed in self.seeds:
                            out.append(Cell(benchmark, model, regime, name, path, seed))
        return out


def _resolve(
    config_path: Path, p: str, what: str = "synthetic dataset", folder: bool = False, required: bool = True
) -> Path:
    """A dataset path (a folder too when ``folder``): absolute, else from the config's folder, else from here; one
    that does not exist yet and is not ``required`` is taken from the config's folder."""
    base, path = config_path.parent, Path(p)
    candidates = (path,) if path.is_absolute() else (base / path, path)
    for candidate in candidates:
        if candidate.is_file() or (folder and candidate.is_dir()):
            return candidate.resolve()
    if not required:
        return candidates[0].resolve()
    raise ConfigError(f"{config_path}: {what} {p} not found (relative to the config or here)")


@dataclass(frozen=True)
class Cell:
    """One training run of the grid; ``treatment`` is what the statistics compare (regime + dataset)."""

    benchmark: str
    model: str
    regime: str
    dataset: str | None
    synthetic: str | None
    seed: int

    @property
    def treatment(self) -> str:
        """What the statistics compare: the regime, with the synthetic dataset's name when there is one."""
        return self.regime if self.dataset is None else f"{self.regime}:{self.dataset}"

    @property
    def block(self) -> tuple[str, str, int]:
        """The Friedman block the cell belongs to: benchmark, model, seed."""
        return self.benchmark, self.model, self.seed

    def path(self, root: Path) -> Path:
        """The cell's run directory under the experiment's ``root``."""
        slug = self.treatment.replace("->", "2").replace(":", "_")
        return root / "cells" / self.benchmark / self.model / slug / f"seed{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        """The cell as the columns of ``results.jsonl`` (dataset path relative to the working directory)."""
        return {
            "benchmark": self.benchmark,
            "model": self.model,
            "regime": self.regime,
            "dataset": self.dataset,
            "synthetic": shown(self.synthetic) if self.synthetic else None,
            "seed": self.seed,
            "treatment": self.treatment,
        }
