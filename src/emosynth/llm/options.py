"""One typed options object per backend, and the factory that builds a (cached) backend from it.

A user's option that the chosen backend does not use is an error naming both, never silently dropped
(``--base-url`` means nothing to in-process llama.cpp). Importing this module imports no backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emosynth.errors import ConfigError, validated
from emosynth.llm.base import LLMBackend, backend_class


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def kwargs(self) -> dict[str, Any]:
        """The backend constructor's keyword arguments."""
        return self.model_dump(exclude={"backend"})


class LlamaCppOptions(_Options):
    """In-process llama.cpp (``LlamaCppBackend``)."""

    backend: Literal["llamacpp"] = "llamacpp"
    model: str | None = None
    n_ctx: int = Field(4096, ge=256)
    n_threads: int | None = Field(None, ge=1)
    concurrency: int = Field(4, ge=1)  # the fastest of 1, 2, 4, 8 here (benchmarks/results/generation.json)
    constraint: Literal["auto", "llguidance", "grammar"] = "auto"


class OpenAIOptions(_Options):
    """An OpenAI-compatible server (``OpenAIBackend``)."""

    backend: Literal["openai"] = "openai"
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(4, ge=1)
    max_retries: int = Field(3, ge=0)
    timeout: float = Field(300.0, gt=0)
    schema_dialect: Literal["auto", "json_schema", "json_object", "none"] = "auto"


class TransformersOptions(_Options):
    """A local Hugging Face causal LM (``TransformersBackend``)."""

    backend: Literal["transformers"] = "transformers"
    model: str | None = None
    n_threads: int | None = Field(None, ge=1)


class RayOptions(_Options):
    """Replicas of an in-process backend as Ray actors (``RayBackend``)."""

    backend: Literal["ray"] = "ray"
    model: str | None = None
    address: str | None = None
    replicas: int | None = Field(None, ge=1)
    cpus_per_replica: int = Field(1, ge=1)
    inner: Literal["llamacpp", "transformers"] = "llamacpp"
    num_cpus: int | None = Field(None, ge=1)
    start_timeout: float = Field(600.0, gt=0)


BackendOptions = LlamaCppOptions | OpenAIOptions | TransformersOptions | RayOptions
OPTIONS: dict[str, type[_Options]] = {
    "llamacpp": LlamaCppOptions,
    "openai": OpenAIOptions,
    "transformers": TransformersOptions,
    "ray": RayOptions,
}


def flag(option: str) -> str:
    """How an option is spelled on the command line (``ray`` options carry a ``ray-`` prefix there)."""
    return "--" + {"address": "ray-address"}.get(option, option).replace("_", "-")


def backend_options(backend: str, /, **given: Any) -> BackendOptions:
    """The typed options of ``backend`` from the values a user set; ``None`` means not set.

    Raises:
        UnknownNameError: ``backend`` is not registered (with a "Did you mean" hint).
        ConfigError: an option the backend does not take, or a value out of range.
    """
    if backend not in OPTIONS:
        backend_class(backend)  # raises the registry's "Unknown backend ... Did you mean" error
    cls = OPTIONS[backend]
    given = {k: v for k, v in given.items() if v is not None}
    for name in given:
        if name not in cls.model_fields or name == "backend":
            takes = ", ".join(flag(k) for k in cls.model_fields if k != "backend")
            raise ConfigError(f"the {backend} backend does not take {flag(name)}; it takes {takes}")
    return validated(cls, f"--backend {backend}", **given)


def make_backend(options: BackendOptions, cache: str | Path | None = None) -> LLMBackend:
    """The backend ``options`` describe, wrapped in the SQLite response cache at ``cache`` unless it is None."""
    from emosynth.llm.cache import CachedBackend, ResponseCache

    llm = backend_class(options.backend)(**options.kwargs())
    if cache is None:
        return llm
    try:
        return CachedBackend(llm, ResponseCache(cache))
    except BaseException:
        llm.close()
        raise


@contextmanager
def open_backend(options: BackendOptions | None, cache: str | Path | None = None) -> Iterator[LLMBackend | None]:
    """``make_backend`` as a context manager that closes the backend (None options: no backend)."""
    llm = make_backend(options, cache) if options is not None else None
    try:
        yield llm
    finally:
        if llm is not None:
            llm.close()
