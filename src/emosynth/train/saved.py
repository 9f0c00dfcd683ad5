"""Saving and loading the models made of several parts (CoMPM, TODKAT): each Hugging Face encoder in a folder of
its own, the tokenizer, the other weights in ``head.pt``, and the config in ``emosynth.json`` under its kind."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from emosynth.errors import ConfigError


def save_parts(model, path: str | Path) -> Path:
    """Write ``model`` to ``path``: it has ``kind``, ``config``, ``tokenizer`` and, named by its class attribute
    ``encoders``, the Hugging Face encoders that are saved apart."""
    path, encoders = Path(path), model.encoders
    for name in encoders:
        getattr(model, name).save_pretrained(path / name)
    model.tokenizer.save_pretrained(path)
    head = {k: v for k, v in model.state_dict().items() if k.split(".")[0] not in encoders}
    torch.save(head, path / "head.pt")
    meta = {"kind": model.kind, **asdict(model.config)}
    (path / "emosynth.json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


def load_parts(cls, config_cls, path: str | Path):
    """The model ``save_parts`` wrote: ``cls(config_cls(**saved config), _path=path)`` with its head weights."""
    path = Path(path)
    meta = json.loads((path / "emosynth.json").read_text())
    meta.pop("kind")
    model = cls(config_cls(**meta), _path=path)
    missing, unexpected = model.load_state_dict(torch.load(path / "head.pt"), strict=False)
    # the encoders were loaded from their own folders; any other weight missing or left over: another model's head
    missing = [k for k in missing if k.split(".")[0] not in cls.encoders]
    if missing or unexpected:
        raise ConfigError(
            f"{path / 'head.pt'} does not fit this version's {cls.__name__} (missing: {', '.join(missing[:3]) or '-'}; "
            f"unexpected: {', '.join(unexpected[:3]) or '-'}): train it again"
        )
    return model
