"""``emosynth review``: label synthetic data blind on a local page; the summary, export and import of the answers."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from emosynth.cli.app import app, fail
from emosynth.errors import EmosynthError


def _default_annotator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "annotator"


@app.command("review")
def review(
    data: Annotated[Path, typer.Argument(help="Synthetic dialogues or examples (JSONL).")],
    port: Annotated[int, typer.Option(help="Port of the page on --host.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to serve on (127.0.0.1: this machine only).")] = "127.0.0.1",
    sample: Annotated[
        int, typer.Option(help="Items to review: whole dialogues (or examples) in a seeded order; 0: all.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Order of the sample.")] = 0,
    annotator: Annotated[
        str | None, typer.Option(help="Whose answers (default: the login name; the page also takes ?annotator=).")
    ] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print the agreement figures (and write DATA.review.json); no page.")
    ] = False,
    export: Annotated[
        Path | None, typer.Option(help="Write the queue and answers here (see --format); no page.")
    ] = None,
    import_from: Annotated[
        Path | None, typer.Option("--import", help="Read answers from a Label Studio export or Argilla records.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="label-studio | argilla (for --export / --import)")
    ] = "label-studio",
) -> None:
    """Serve a page where a person labels turns blind (number keys), sees the assigned label only after answering,
    and can stop at any time (answers are saved at once in DATA.review.sqlite; a restart continues)."""
    from emosynth.data.io import sidecar, write_atomic
    from emosynth.review.interchange import export_answers, import_answers
    from emosynth.review.items import load_queue
    from emosynth.review.server import ReviewSession, serve
    from emosynth.review.store import AnswerStore
    from emosynth.review.summary import review_summary, summary_lines

    try:
        queue = load_queue(data, sample or None, seed)
        store = AnswerStore.beside(data)
        if import_from is not None:
            answers = import_answers(queue, import_from, fmt)
            for answer in answers:
                store.save(answer)
            people = sorted({a.annotator for a in answers})
            typer.echo(
                f"imported {len(answers)} answers of {len(people)} annotators ({', '.join(people)}) from {import_from}"
            )
        if export is not None:
            answers = store.answers()
            n = export_answers(queue, answers, fmt, export)
            typer.echo(f"wrote {n} {fmt} tasks/records with {len(answers)} answers to {export}")
        if summary:
            figures = review_summary(store.answers(), queue.taxonomy)
            write_atomic(sidecar(data, "review.json"), json.dumps(figures, indent=1) + "\n")
            for line in summary_lines(figures):
                typer.echo(line)
        if summary or export is not None or import_from is not None:
            return
        name = ReviewSession.check_annotator(annotator or _default_annotator())
        serve(ReviewSession(queue, store), name, host, port, typer.echo)
    except EmosynthError as exc:
        fail(exc)
