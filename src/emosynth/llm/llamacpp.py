"""In-process llama.cpp backend (llama-cpp-python), the default."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from emosynth.errors import BackendError, ConfigError, requires
from emosynth.llm.base import ChatRequest, Completion, LLMBackend
from emosynth.llm.embedded import resolve_model

log = logging.getLogger(__name__)


def chat_kwargs(request: ChatRequest) -> dict:
    """``Llama.create_chat_completion`` arguments for a request; the JSON schema becomes a grammar."""
    kwargs = request.sampling() | dict(
        messages=list(request.messages), seed=request.seed, repeat_penalty=request.repeat_penalty
    )
    if request.json_schema is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": request.json_schema}
    return kwargs


def without_amx(llama_cpp) -> bool:
    """On a llama.cpp build with AMX, make every model load without llama.cpp's extra CPU buffer types (the AMX and
    repacked weight layouts); returns whether it did. ggml's AMX matrix product crashes the process at the first
    decode on some Sapphire Rapids hosts (ggml-org/llama.cpp#20824, open; seen on this project's 2-core VM on
    2026-12-02), and llama-cpp-python has no option for it, so the default model parameters are changed for the
    process. ``EMOSYNTH_LLAMA_AMX=1`` keeps AMX (a host where it works)."""
    if "AMX_INT8 = 1" not in llama_cpp.llama_print_system_info().decode() or os.environ.get("EMOSYNTH_LLAMA_AMX"):
        return False
    low = llama_cpp.llama_cpp
    if not getattr(low.llama_model_default_params, "without_amx", False):
        default = low.llama_model_default_params

        def params():
            out = default()
            out.use_extra_bufts = False
            return out

        params.without_amx = True
        low.llama_model_default_params = params
    return True


def _constraint(name: str) -> str:
    """The schema engine to use: ``auto`` is llguidance when it is installed."""
    from emosynth.llm import guidance

    if name == "auto":
        return "llguidance" if guidance.available() else "grammar"
    if name == "llguidance" and not guidance.available():
        raise ConfigError("constraint 'llguidance' needs the llguidance package: pip install 'emosynth[llm]'")
    if name not in ("llguidance", "grammar"):
        raise ConfigError(f"unknown constraint '{name}'; expected auto, llguidance or grammar")
    return name


class LlamaCppBackend(LLMBackend):
    """A GGUF model run in this process; JSON schemas are enforced by llguidance token masks (or llama.cpp's
    grammar sampler).

    Args:
        model: an embedded model name (``emosynth models``) or a path to a GGUF file.
        n_ctx: context window in tokens.
        n_threads: CPU threads (default: all cores).
        concurrency: template requests decoded together in one batch (``llm.batch``); each sequence has its own
            ``n_ctx``. Requests under a JSON schema are answered one at a time.
        constraint: how a JSON schema is enforced: ``llguidance`` (token masks, ``llm.guidance``; 1.6-2.3x the
            grammar's decoding rate, ``benchmarks/results/constraint_engines.json``), ``grammar`` (llama.cpp's
            grammar sampler), ``auto`` (llguidance when installed). Either way the reply is valid under the schema,
            so the backend's identity (and the cache) does not depend on it.
    """

    name = "llamacpp"
    fills_templates = True

    def __init__(
        self,
        model: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        concurrency: int = 4,
        constraint: str = "auto",
    ):
        # OpenMP threads that spin while waiting make decoding ~25x slower when another process shares the cores
        # (measured on 2 cores); idle threads sleep instead. Read once, when the OpenMP runtime starts.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        llama_cpp = requires("llama_cpp", "llm", "llama-cpp-python==0.3.36")
        path, self.model_id = resolve_model(model)
        self.path = Path(path)
        self.n_ctx, self.concurrency = n_ctx, concurrency
        self.filler = None
        self.guide = None
        self.constraint = _constraint(constraint)
        self.choosers: dict[str, object] = {}
        without_amx(llama_cpp)
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=n_ctx,
                n_threads=n_threads or os.cpu_count(),
                # batches of several tokens (prompts, and every step of batched decoding) take this one
                n_threads_batch=n_threads or os.cpu_count(),
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp cannot load {self.path}: {exc}") from exc
        # template filling rewinds the KV cache to redraw a hole: recurrent and hybrid models cannot do that
        self.fills_templates = not any(
            getattr(llama_cpp, name)(self.llm.model) for name in ("llama_model_is_recurrent", "llama_model_is_hybrid")
        )
        self.chooses = self.fills_templates

    def set_chooser(self, chooser) -> None:
        """Use ``chooser`` for the best-of-n requests that name its identity."""
        if not self.chooses:
            super().set_chooser(chooser)
        self.choosers[chooser.identity] = chooser

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request: a template is filled (``llm.batch``); else a JSON schema is enforced by llama.cpp's
        grammar sampler."""
        if request.template is not None:
            return self._completion(self._filler().fill(request))
        start = time.perf_counter()
        kwargs = chat_kwargs(request)
        if request.json_schema is not None and self.constraint == "llguidance":
            if self.guide is None:
                from emosynth.llm.guidance import Guide

                self.guide = Guide(self.llm)
            del kwargs["response_format"]
            kwargs["logits_processor"] = self.guide.processor(request.json_schema)
        try:
            out = self.llm.create_chat_completion(**kwargs)
        except ValueError as exc:  # e.g. prompt + max_tokens beyond the context window
            raise BackendError(
                f"llama.cpp refused the request: {' '.join(str(exc).split())} (n_ctx={self.n_ctx})"
            ) from exc
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            model=self.model_id,
            seconds=time.perf_counter() - start,
        )

    def complete_many(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[int, Completion]]:
        """Requests under a schema one after another, then the template requests ``concurrency`` at a time; yields
        ``(position, completion)`` as each finishes."""
        requests = list(requests)
        templated = [i for i, r in enumerate(requests) if r.template is not None and self.fills_templates]
        batched = set(templated)
        for i, request in enumerate(requests):
            if i not in batched:
                yield i, self.complete(request)
        if templated:
            for j, filled in self._filler().fill_many([requests[i] for i in templated]):
                yield templated[j], self._completion(filled)

    def _filler(self):
        if self.filler is None:
            from emosynth.llm.batch import BatchFiller

            self.filler = BatchFiller(self.llm, self.concurrency, self.n_ctx, choosers=self.choosers)
        return self.filler

    def _completion(self, out) -> Completion:
        return Completion(
            text=out.text,
            finish_reason=out.finish_reason,
            prompt_tokens=out.prompt_tokens,
            completion_tokens=out.sampled_tokens,
            model=self.model_id,
            seconds=out.seconds,
            extra={"forced_tokens": out.forced_tokens, "redraws": out.redraws}
            | ({} if out.hole_scores is None else {"hole_scores": out.hole_scores, "hole_agree": out.hole_agree})
            | ({} if out.hole_candidates is None else {"hole_candidates": out.hole_candidates}),
        )

    def close(self) -> None:
        """Free the filling context and the model."""
        if self.filler is not None:
            self.filler.close()
        self.llm.close()
