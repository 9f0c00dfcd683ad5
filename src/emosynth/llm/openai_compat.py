"""Any OpenAI-compatible chat server (vLLM, llama.cpp's server, llama-cpp-python's server, Ollama, TGI).

Retries with exponential backoff on 429, 5xx, connection errors and timeouts are the ``openai`` client's
own (``max_retries``). Servers take a JSON schema in one of two dialects:

- ``json_schema``: ``{"type": "json_schema", "json_schema": {"name", "schema"}}`` (OpenAI, vLLM, llama.cpp server)
- ``json_object``: ``{"type": "json_object", "schema": {...}}`` (llama-cpp-python's server)

``schema_dialect="auto"`` tries the first and falls back to the second once, remembering what worked.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

from emosynth.errors import BackendError, ConfigError, requires
from emosynth.llm.base import ChatRequest, Completion, LLMBackend

log = logging.getLogger(__name__)

DIALECTS = ("auto", "json_schema", "json_object", "none")


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` of a JSON schema in a server's dialect (None for ``none``)."""
    if dialect == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}
    if dialect == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def _one_line(exc: Exception, limit: int = 200) -> str:
    """An exception's text on one line (servers answer with multi-line HTML pages)."""
    return " ".join(str(exc).split())[:limit]


def _rejects_dialect(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("json_object", "json_schema", "response_format", "'text'"))


class OpenAIBackend(LLMBackend):
    """Chat completions from an OpenAI-compatible server.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        model: the served model name; default: the first one the server lists.
        api_key_env: name of the environment variable holding the API key (the key is never logged).
        concurrency: requests in flight at once.
        max_retries: retries of 429/5xx/timeouts (exponential backoff by the openai client).
        timeout: seconds per request.
        schema_dialect: one of ``auto``, ``json_schema``, ``json_object``, ``none``.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 4,
        max_retries: int = 3,
        timeout: float = 300.0,
        schema_dialect: str = "auto",
    ):
        openai = requires("openai", "openai")
        if schema_dialect not in DIALECTS:
            raise ConfigError(f"Unknown schema dialect '{schema_dialect}'; expected one of {', '.join(DIALECTS)}")
        if not base_url:
            raise ConfigError("The openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        self._openai = openai
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.dialect = schema_dialect
        self._dialect_lock = threading.Lock()
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get(api_key_env) or "not-needed",
            max_retries=max_retries,
            timeout=timeout,
        )
        self.model_id = model or self._first_model()

    def _first_model(self) -> str:
        models = self._call(lambda: self.client.models.list())
        try:
            return next(iter(models)).id
        except (StopIteration, AttributeError, TypeError) as exc:
            raise BackendError(f"Server at {self.base_url} lists no models; pass --model") from exc

    def _call(self, fn):
        """Run one client call, turning client exceptions into one-line BackendErrors."""
        openai = self._openai
        try:
            return fn()
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise BackendError(
                f"Cannot reach the server at {self.base_url} ({_one_line(exc)}); is it running?"
            ) from exc
        except openai.APIStatusError as exc:
            raise BackendError(f"Server at {self.base_url} answered HTTP {exc.status_code}: {_one_line(exc)}") from exc
        except (openai.APIError, ValueError, TypeError, KeyError) as exc:
            raise BackendError(
                f"Server at {self.base_url} answered something that is not an OpenAI response: {_one_line(exc)}"
            ) from exc

    def _create(self, request: ChatRequest, dialect: str, client=None):
        kwargs: dict[str, Any] = request.sampling() | dict(model=self.model_id, messages=list(request.messages))
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.json_schema is not None and (fmt := response_format(dialect, request.json_schema)):
            kwargs["response_format"] = fmt
        return (client or self.client).chat.completions.create(**kwargs)

    def _create_detecting(self, request: ChatRequest):
        """With ``auto``: try ``json_schema`` without retries, fall back to ``json_object`` once."""
        with self._dialect_lock:
            if self.dialect != "auto" or request.json_schema is None:
                dialect = self.dialect
            else:
                probe = self.client.with_options(max_retries=0)
                for candidate in ("json_schema", "json_object"):
                    try:
                        response = self._create(request, candidate, probe)
                    except (self._openai.BadRequestError, self._openai.InternalServerError) as exc:
                        if _rejects_dialect(exc):
                            log.warning("Server rejects response_format dialect %s: %s", candidate, _one_line(exc))
                            continue
                        response = self._create(request, candidate)  # not about the dialect: retry as usual
                    except self._openai.APIError:
                        response = self._create(request, candidate)  # 429, timeouts: the client's retries apply
                    self.dialect = candidate
                    log.info("Server takes JSON schemas in the %s dialect", candidate)
                    return response
                raise BackendError(
                    f"Server at {self.base_url} rejects both JSON-schema dialects; "
                    "set --schema-dialect none (schemas are then only checked after generation)"
                )
        return self._create(request, dialect)

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request (the schema in the server's dialect, detected once with ``auto``)."""
        start = time.perf_counter()
        response = self._call(lambda: self._create_detecting(request))
        return self._to_completion(response, time.perf_counter() - start)

    def _to_completion(self, response, seconds: float) -> Completion:
        try:
            choice = response.choices[0]
            usage = response.usage
            return Completion(
                text=choice.message.content or "",
                finish_reason=choice.finish_reason or "stop",
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                model=self.model_id,
                seconds=seconds,
            )
        except (AttributeError, IndexError, TypeError) as exc:
            raise BackendError(
                f"Server at {self.base_url} answered something that is not an OpenAI chat completion"
            ) from exc

    def complete_many(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[int, Completion]]:
        """Keeps ``concurrency`` requests in flight; yields answers as they finish."""
        it = enumerate(requests)
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        running = {}
        try:
            for i, req in it:
                running[pool.submit(self.complete, req)] = i
                if len(running) >= self.concurrency:
                    break
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = running.pop(fut)
                    yield i, fut.result()
                    nxt = next(it, None)
                    if nxt is not None:
                        running[pool.submit(self.complete, nxt[1])] = nxt[0]
        finally:
            # On an error or interrupt, do not wait for requests still in flight (up to `timeout` each).
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
