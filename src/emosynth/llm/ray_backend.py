"""Many machines: replicas of an in-process backend (llama.cpp by default) as Ray actors.

Each replica loads its own copy of the model on the node Ray places it on, so the model must resolve on
every node (run ``emosynth models --prepare`` there, or give a GGUF path that exists on all of them).
Requests are spread over the replicas and answered in completion order; caching and resume stay on the
driver (``CachedBackend`` wraps this backend like any other).

Without ``address`` a local Ray cluster is started in this process (``ray.init``) and shut down by ``close``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from emosynth import errors
from emosynth.errors import BackendError, ConfigError, EmosynthError, requires
from emosynth.llm.base import ChatRequest, Completion, LLMBackend, get_backend

log = logging.getLogger(__name__)


class _Replica:
    """One backend instance inside a Ray actor."""

    def __init__(self, inner: str, kwargs: dict[str, Any]):
        self.backend = get_backend(inner, **kwargs)

    def describe(self) -> tuple[str, str, str]:
        import socket

        return self.backend.name, self.backend.model_id, socket.gethostname()

    def complete_chunk(self, chunk: list[tuple[int, ChatRequest]]) -> Iterator[tuple[int, Completion]]:
        """Answer a chunk of requests as the backend does in-process (a template wave shares its prompt prefix),
        streaming each answer back as it finishes (a Ray generator task)."""
        positions = [position for position, _ in chunk]
        for j, completion in self.backend.complete_many([request for _, request in chunk]):
            yield positions[j], completion


def _root(exc: BaseException) -> BaseException:
    """The actor's own exception inside Ray's wrappers (``RayTaskError.cause``, ``__cause__``)."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(_root(exc)).splitlines() if line.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:300]


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a cluster address nobody listens on (``ray.init`` itself retries for minutes)."""
    import socket

    hostport = address.removeprefix("ray://")
    if address == "auto" or ":" not in hostport:
        return
    host, _, port = hostport.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"cannot connect to the Ray cluster at {address}: {exc}; "
            "start one with `ray start --head` or leave --ray-address out for a local cluster"
        ) from exc


def _reraise(exc: BaseException, what: str):
    """Our own errors keep their class and one-line message; anything else becomes a ``BackendError``."""
    root = _root(exc)
    if isinstance(root, EmosynthError):
        raise type(root)(str(root)) from exc
    line = _one_line(exc)
    # an actor that died in __init__ reports its exception as text only: "emosynth.errors.ModelFileError: ..."
    named = re.match(r"emosynth\.errors\.(\w+): (.*)", line)
    cls = getattr(errors, named.group(1), None) if named else None
    if isinstance(cls, type) and issubclass(cls, EmosynthError):
        raise cls(named.group(2)) from exc
    raise BackendError(f"{what}: {line}") from exc


class RayBackend(LLMBackend):
    """``replicas`` copies of the ``inner`` backend on a Ray cluster.

    Args:
        model: passed to each replica's backend (embedded model name or a GGUF path valid on every node).
        address: a running cluster (``auto``, ``HOST:PORT`` or ``ray://HOST:10001``); None starts a local one.
        replicas: number of actors (default: cluster CPUs // ``cpus_per_replica``, at least 1).
        cpus_per_replica: CPUs reserved per actor; also its llama.cpp thread count.
        inner: the backend each replica runs (``llamacpp`` or ``transformers``).
        num_cpus: CPUs of a local cluster (default: the cores this process may use); ignored with ``address``.
        start_timeout: seconds to wait for every replica to load its model.
    """

    name = "ray"
    # requests per call to a replica: a wave shares its prompt prefix, and answers still stream back one by one
    CHUNK = 8

    def __init__(
        self,
        model: str | None = None,
        address: str | None = None,
        replicas: int | None = None,
        cpus_per_replica: int = 1,
        inner: str = "llamacpp",
        num_cpus: int | None = None,
        start_timeout: float = 600.0,
    ):
        ray = requires("ray", "ray", "ray")
        if inner == "ray":
            raise ConfigError("--inner cannot be 'ray' itself; use llamacpp or transformers")
        self.ray = ray
        self._owns_cluster = False
        if not ray.is_initialized():
            try:
                if address:
                    _probe(address)
                    ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
                else:
                    ray.init(
                        num_cpus=num_cpus or len(os.sched_getaffinity(0)),
                        include_dashboard=False,
                        log_to_driver=False,
                        logging_level=logging.WARNING,
                    )
                    self._owns_cluster = True
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise BackendError(
                    f"cannot connect to the Ray cluster at {address}: {_one_line(exc)}; "
                    "start one with `ray start --head` or leave --ray-address out for a local cluster"
                ) from exc
        free = int(ray.available_resources().get("CPU", 0))
        if cpus_per_replica > free:
            self.close()
            raise ConfigError(f"cpus_per_replica={cpus_per_replica} exceeds the {free} CPUs free on the Ray cluster")
        self.n_replicas = replicas or max(1, free // cpus_per_replica)
        if self.n_replicas * cpus_per_replica > free:
            self.close()
            raise ConfigError(
                f"{self.n_replicas} replicas x {cpus_per_replica} CPUs do not fit the {free} CPUs free on the cluster"
            )
        kwargs = {"model": model}
        if inner == "llamacpp":  # a replica answers one request at a time: one sequence
            kwargs |= {"n_threads": cpus_per_replica, "concurrency": 1}
        actor = ray.remote(num_cpus=cpus_per_replica)(_Replica)
        self.actors = [actor.remote(inner, kwargs) for _ in range(self.n_replicas)]
        try:
            described = ray.get([a.describe.remote() for a in self.actors], timeout=start_timeout)
        except ray.exceptions.GetTimeoutError as exc:
            self.close()
            raise BackendError(
                f"{self.n_replicas} Ray replicas did not load {model or 'the default model'} "
                f"within {start_timeout:.0f} s"
            ) from exc
        except Exception as exc:  # an actor failed to load its model: one line, cluster released
            self.close()
            _reraise(exc, f"a Ray replica could not start its {inner} backend")
        inner_name, self.model_id, _ = described[0]
        self.inner = inner_name
        self.fills_templates = inner == "llamacpp"
        self.hosts = sorted({host for *_, host in described})
        log.info("ray: %d replicas of %s:%s on %s", self.n_replicas, inner_name, self.model_id, ", ".join(self.hosts))

    def identity(self) -> str:
        # A replica answers exactly as the same backend in-process with the same threads would.
        """The inner backend's identity: a replica answers as the same backend in-process would."""
        return f"{self.inner}:{self.model_id}"

    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request on some replica."""
        return next(iter(self.complete_many([request])))[1]

    def complete_many(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[int, Completion]]:
        """Requests go to the replicas in chunks (up to ``CHUNK``, spread evenly), two chunks in flight per replica;
        each answer is yielded as soon as its replica streams it back.

        A chunk is answered by the replica's ``complete_many``, as the same backend in-process would answer it: a wave
        of template requests evaluates its shared prompt prefix once instead of once per request."""
        ray = self.ray
        queue = list(enumerate(requests))
        size = max(1, min(self.CHUNK, -(-len(queue) // len(self.actors))))
        chunks = [queue[i : i + size] for i in range(0, len(queue), size)][::-1]
        in_flight: dict[Any, int] = {}
        load = [0] * len(self.actors)

        def submit() -> None:
            while chunks and min(load) < 2:
                k = load.index(min(load))
                in_flight[self.actors[k].complete_chunk.remote(chunks.pop())] = k
                load[k] += 1

        submit()
        try:
            while in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                stream = ready[0]
                try:
                    ref = next(stream)
                except StopIteration:  # the chunk is done: its replica takes the next one
                    load[in_flight.pop(stream)] -= 1
                    submit()
                    continue
                try:
                    position, completion = ray.get(ref)
                except Exception as exc:
                    _reraise(exc, "a Ray replica failed")
                yield position, completion
        finally:  # an error, or a caller that stops early: do not leave requests running on the replicas
            self._cancel(in_flight)

    def _cancel(self, in_flight: dict[Any, int]) -> None:
        for stream in in_flight:
            try:
                self.ray.cancel(stream, force=False)
            except Exception as exc:  # a stream that ended meanwhile: nothing to cancel
                log.debug("ray: cancelling a chunk: %s", _one_line(exc))

    def close(self) -> None:
        """Kill the replicas and shut down a cluster this backend started."""
        for actor in getattr(self, "actors", []):
            self.ray.kill(actor)
        self.actors = []
        if self._owns_cluster and self.ray.is_initialized():
            self.ray.shutdown()
            self._owns_cluster = False
