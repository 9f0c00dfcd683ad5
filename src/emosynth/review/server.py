"""The review page: a FastAPI app on 127.0.0.1 serving one self-contained HTML page (no external assets) and a small
JSON API; every answer is written to the store before the page shows the assigned label."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from importlib import resources
from typing import Any

import jinja2

from emosynth.errors import ConfigError
from emosynth.review.items import Queue
from emosynth.review.store import Answer, AnswerStore
from emosynth.review.summary import review_summary

MAX_NAME = 64


class ReviewSession:
    """A queue, its answers, and what each annotator does next."""

    def __init__(self, queue: Queue, store: AnswerStore):
        self.queue = queue
        self.store = store

    @staticmethod
    def check_annotator(name: str) -> str:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise ConfigError(f"an annotator name is 1 to {MAX_NAME} characters, got {len(name)}")
        return name

    def state(self, annotator: str) -> dict[str, Any]:
        """The annotator's progress and the next item they have not answered (None when done)."""
        done = self.store.answered(self.check_annotator(annotator))
        todo = [item for item in self.queue.items if item.key not in done]
        return {
            "annotator": annotator,
            "done": len(self.queue.items) - len(todo),
            "total": len(self.queue.items),
            "item": todo[0].to_dict() if todo else None,
        }

    def answer(self, annotator: str, key: str, perceived: str, incoherent: bool, names_emotion: bool) -> dict[str, Any]:
        """Save one answer, then tell the assigned label(s)."""
        item = self.queue.find(key)
        label = self.queue.taxonomy.check(perceived)
        answer = Answer(
            self.check_annotator(annotator), key, label, item.assigned, item.text, incoherent, names_emotion
        )
        self.store.save(answer)
        return {"assigned": list(item.assigned), "agrees": answer.agrees} | self.state(annotator)

    def summary(self) -> dict[str, Any]:
        return review_summary(self.store.answers(), self.queue.taxonomy)


def render_page(session: ReviewSession, annotator: str) -> str:
    """The page, with the labels and the default annotator written in (autoescaped; JSON in the script)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    source = resources.files("emosynth.review").joinpath("templates/page.html.j2").read_text(encoding="utf-8")
    queue = session.queue
    return env.from_string(source).render(
        dataset=queue.path.name,
        taxonomy=queue.taxonomy.name,
        kind=queue.kind,
        labels=list(queue.taxonomy.labels),
        annotator=annotator,
    )


def make_app(session: ReviewSession, annotator: str):
    """The FastAPI app of one review session."""
    from fastapi import Body, FastAPI, Query
    from fastapi.responses import HTMLResponse, JSONResponse

    app = FastAPI(title="emosynth review", docs_url=None, redoc_url=None, openapi_url=None)
    html = render_page(session, annotator)  # the same page for every visit: the API serves what changes

    @app.exception_handler(ConfigError)
    def refused(_request, exc: ConfigError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return html

    @app.get("/api/next")
    def next_item(annotator: str = Query(...)) -> dict[str, Any]:
        return session.state(annotator)

    @app.post("/api/answer")
    def answer(
        annotator: str = Body(...),
        item: str = Body(...),
        perceived: str = Body(...),
        incoherent: bool = Body(False),
        names_emotion: bool = Body(False),
    ) -> dict[str, Any]:
        return session.answer(annotator, item, perceived, incoherent, names_emotion)

    @app.get("/api/summary")
    def summary() -> dict[str, Any]:
        return session.summary()

    return app


def check_port(host: str, port: int) -> None:
    """Refuse a port in use with the fix in the message (before the server starts and half-fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is in use (another review?); pass --port with a free one"
                ) from exc
            raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})") from exc


def serve(
    session: ReviewSession,
    annotator: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    announce: Callable[[str], None] = print,
) -> None:
    """Check the port, ``announce`` where the page is and the annotator's progress, then serve until interrupted
    (answers are already saved; nothing to flush)."""
    import uvicorn

    check_port(host, port)
    state = session.state(annotator)
    announce(
        f"reviewing {session.queue.path} as {annotator}: {state['done']} of {state['total']} items done; "
        f"open http://{host}:{port}/ (Ctrl-C stops; answers are already saved)"
    )
    uvicorn.run(make_app(session, annotator), host=host, port=port, log_level="warning")
