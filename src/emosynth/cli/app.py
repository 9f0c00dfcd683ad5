"""The ``emosynth`` app, its global options and the LLM flags that every LLM command shares."""

from __future__ import annotations

import functools
import inspect
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from emosynth.errors import EmosynthError

HELP = "Synthesize emotion-recognition data with LLMs and measure what it is worth."
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=HELP,
)
generate_app = typer.Typer(no_args_is_help=True, help="Generate synthetic data.")
app.add_typer(generate_app, name="generate")


def fail(exc: Exception) -> None:
    """Print the error as one line on stderr and exit with code 2."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def generating(output: Path) -> Iterator[None]:
    """A generation command's errors as one line (exit 2); Ctrl-C says that what was written is kept (exit 130).

    SIGTERM (``kill``) stops the run the same way, and so does SIGINT in a job started in the background, whose
    shell starts it with SIGINT ignored: either way the invocation's summary is written before the exit."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except EmosynthError as exc:
        fail(exc)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; everything written so far is kept in {output} (rerun to resume)", err=True)
        raise typer.Exit(130) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """Global options: ``-v`` logs progress details."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _flag(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# The LLM flags, declared once for every command that talks to an LLM (``@llm_command``). Unset flags are None,
# so that a flag the chosen backend does not take is refused by name (``emosynth.llm.options``).
LLM_FLAGS = [
    _flag("backend", Annotated[str, typer.Option(help="llamacpp | openai | transformers | ray")], "llamacpp"),
    _flag("model", Annotated[str | None, typer.Option(help="Embedded model name, GGUF/HF path, or served model.")]),
    _flag("base_url", Annotated[str | None, typer.Option(help="openai: the server, e.g. http://127.0.0.1:8000/v1")]),
    _flag("api_key_env", Annotated[str | None, typer.Option(help="openai: variable holding the API key.")]),
    _flag(
        "concurrency",
        Annotated[int | None, typer.Option(help="Requests at once: openai in flight (4); llamacpp in one batch (4).")],
    ),
    _flag(
        "schema_dialect", Annotated[str | None, typer.Option(help="openai: auto | json_schema | json_object | none")]
    ),
    _flag("n_threads", Annotated[int | None, typer.Option(help="llamacpp/transformers: CPU threads.")]),
    _flag("ray_address", Annotated[str | None, typer.Option(help="ray: cluster (auto, HOST:PORT); default: local.")]),
    _flag("replicas", Annotated[int | None, typer.Option(help="ray: model replicas (default CPUs/cpus-per-replica).")]),
    _flag("cpus_per_replica", Annotated[int | None, typer.Option(help="ray: CPUs and threads per replica (1).")]),
    _flag("n_ctx", Annotated[int | None, typer.Option(help="llamacpp: context window in tokens (4096).")]),
    _flag(
        "constraint",
        Annotated[str | None, typer.Option(help="llamacpp: JSON schemas by auto | llguidance | grammar (auto).")],
    ),
    _flag("max_retries", Annotated[int | None, typer.Option(help="openai: retries of 429/5xx/timeouts (3).")]),
    _flag("timeout", Annotated[float | None, typer.Option(help="openai: seconds per request (300).")]),
    _flag("inner", Annotated[str | None, typer.Option(help="ray: backend of each replica (llamacpp).")]),
    _flag("num_cpus", Annotated[int | None, typer.Option(help="ray: CPUs of a local cluster (all).")]),
    _flag("start_timeout", Annotated[float | None, typer.Option(help="ray: seconds for replicas to load (600).")]),
]


def llm_command(fn):
    """Give a command the shared LLM flags; it receives them as one ``llm`` options object (or an error)."""
    own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "llm"]

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        from emosynth.llm.options import backend_options

        given = {p.name: kwargs.pop(p.name) for p in LLM_FLAGS}
        name = given.pop("backend")
        given["address"] = given.pop("ray_address")
        try:
            options = backend_options(name, **given)
        except EmosynthError as exc:
            fail(exc)
        return fn(llm=options, **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *LLM_FLAGS])
    wrapper.__annotations__ = {p.name: p.annotation for p in own} | {p.name: p.annotation for p in LLM_FLAGS}
    return wrapper
