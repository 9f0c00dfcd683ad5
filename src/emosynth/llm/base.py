"""The backend interface (chat messages + sampling + optional JSON schema in; text + usage out) and registry.

Backends are registered as lazy ``"module:Class"`` strings, so importing emosynth never imports
llama_cpp, openai or torch.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import inspect
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from emosynth.errors import ConfigError, UnknownNameError

BACKENDS: dict[str, str] = {
    "llamacpp": "emosynth.llm.llamacpp:LlamaCppBackend",
    "openai": "emosynth.llm.openai_compat:OpenAIBackend",
    "transformers": "emosynth.llm.hf_local:TransformersBackend",
    "ray": "emosynth.llm.ray_backend:RayBackend",
}


SAMPLING = ("temperature", "top_p", "max_tokens", "presence_penalty", "frequency_penalty")


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request. ``sample_index`` separates repeated samples of the same prompt.

    ``template``, when given, is the fixed text around the free JSON strings of the reply (see ``llm.fill``):
    a backend that fills templates (``fills_templates``) samples only the strings; any other backend answers
    under ``json_schema`` instead, which must describe the same reply.

    Best-of-n filling (a backend that ``chooses``): each hole is drawn ``hole_candidates`` times from the same
    prefix and the backend's chooser of identity ``chooser`` keeps the candidate it scores best for what that
    hole should express, ``hole_labels[i]`` (``emosynth.judge.Chooser``). A hole whose best candidate scores below
    ``hole_min_score`` is drawn ``hole_candidates`` times more, up to ``hole_rounds`` rounds in all, and the best
    of all its candidates kept. ``chooser_rules`` names the rules the chooser was built with beyond its
    models (e.g. ``opener_cap=1.5``): they change which candidate it keeps, so they are part of the cache key.
    """

    messages: tuple[dict[str, str], ...]
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 512
    seed: int | None = None
    json_schema: dict[str, Any] | None = None
    repeat_penalty: float = 1.1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    sample_index: int = 0
    template: tuple[str, ...] | None = None
    hole_max_chars: int | None = None  # with a template: the longest string a hole may hold (the schema's maxLength)
    hole_repeats: bool = False  # with a template: a hole may repeat an earlier one (e.g. "happy" for two lines)
    hole_candidates: int = 1
    hole_labels: tuple[str, ...] | None = None
    chooser: str | None = None
    hole_min_score: float | None = None
    hole_rounds: int = 1
    chooser_rules: str | None = None

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters every backend passes on as they are."""
        return {k: getattr(self, k) for k in SAMPLING}

    def canonical(self) -> str:
        """Sorted-key JSON of everything that determines the answer (the cache key's payload)."""
        payload = asdict(self)
        # requests without a template or a choice keep the keys they always had (and their cached answers)
        defaults = (("template", None), ("hole_max_chars", None), ("hole_candidates", 1), ("hole_repeats", False))
        defaults += (("hole_min_score", None), ("hole_rounds", 1))
        for key, default in defaults:
            if payload[key] == default:
                del payload[key]
        for key in ("hole_labels", "chooser", "chooser_rules"):
            if payload[key] is None:
                del payload[key]
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Completion:
    """A backend's answer."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    seconds: float = 0.0
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """True when the reply was cut off by ``max_tokens``: such a reply is rejected, not parsed."""
        return self.finish_reason == "length"

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-ready (what the cache stores)."""
        return asdict(self)


class LLMBackend:
    """Base class of backends. Subclasses implement ``complete`` and set ``name`` and ``model_id``."""

    name: str = "base"
    model_id: str = ""
    fills_templates: bool = False  # samples only the holes of a request's template (else: its JSON schema)
    chooses: bool = False  # fills best-of-n, keeping the candidate its chooser prefers (``set_chooser``)

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request."""
        raise NotImplementedError

    def complete_many(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[int, Completion]]:
        """Answer many requests; yields ``(position, completion)`` in completion order (serial here)."""
        for i, req in enumerate(requests):
            yield i, self.complete(req)

    def set_chooser(self, chooser) -> None:
        """Use ``chooser`` (``emosynth.judge.Chooser``) for requests that name its identity."""
        raise ConfigError(
            f"backend '{self.name}' cannot choose among candidate utterances; best-of-n needs the in-process "
            "llamacpp backend"
        )

    def identity(self) -> str:
        """What distinguishes this backend's answers in the cache: backend name and model identity."""
        return f"{self.name}:{self.model_id}"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, models)."""


def cache_key(identity: str, request: ChatRequest) -> str:
    """sha256 of the backend identity and the canonical request (includes seed and sample index)."""
    return hashlib.sha256(f"{identity}\n{request.canonical()}".encode()).hexdigest()


def backend_class(name: str) -> type[LLMBackend]:
    """Resolve a registered backend name to its class, importing its module only now."""
    if name not in BACKENDS:
        close = difflib.get_close_matches(name, BACKENDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UnknownNameError(f"Unknown backend '{name}'.{hint} Available: {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def get_backend(name: str, **kwargs: Any) -> LLMBackend:
    """Instantiate a backend by registry name; an option it does not take is a ``ConfigError``, not ignored."""
    cls = backend_class(name)
    takes = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in kwargs:
        if key not in takes:
            raise ConfigError(f"Backend '{name}' does not take option '{key}'; it takes: {', '.join(takes)}")
    return cls(**kwargs)
