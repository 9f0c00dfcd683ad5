"""``emosynth inspect`` and ``verify``: what a dataset looks like and whether its labels hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from emosynth.cli.app import app, fail, llm_command
from emosynth.errors import EmosynthError


@app.command("inspect")
def inspect_cmd(
    data: Annotated[list[str], typer.Argument(help="JSONL files or benchmarks (meld:train, goemotions:dev, ...).")],
    against: Annotated[str | None, typer.Option(help="A real benchmark to compare with (e.g. meld:train).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write all statistics as JSON here.")] = None,
    semantic: Annotated[bool, typer.Option("--semantic/--no-semantic", help="MiniLM embedding diversity.")] = True,
    sample: Annotated[
        int, typer.Option(help="Texts sampled for self-BLEU, and per label for semantic diversity.")
    ] = 200,
    seed: Annotated[int, typer.Option()] = 0,
    data_root: Annotated[str | None, typer.Option(help="Benchmark folder (default: ../shared/data/...).")] = None,
) -> None:
    """Size, labels, transitions, lengths, lexical/semantic diversity, repeats, duplicates, label-word leakage;
    for examples also diversity per class (neutral apart), context personalization and out-of-taxonomy labels."""
    try:
        from emosynth.quality.describe import describe_specs
        from emosynth.report.tables import format_table

        reports = describe_specs(data, against, data_root, semantic, sample, seed, json_out)
    except EmosynthError as exc:
        fail(exc)
    typer.echo(format_table(reports))


@app.command("verify")
@llm_command
def verify(
    data: Annotated[Path, typer.Argument(help="Synthetic dialogues or examples (JSONL).")],
    llm: Any,
    classifier: Annotated[
        list[Path] | None,
        typer.Option(help="Classifier judge: a model saved by `emosynth train` (RUN/model); repeat for several."),
    ] = None,
    use_llm: Annotated[
        bool | None,
        typer.Option("--llm/--no-llm", help="LLM judge of dialogues (the --backend flags); default: on for dialogues."),
    ] = None,
    cache: Annotated[Path | None, typer.Option(help="LLM judge cache (default: beside the data).")] = None,
    ceiling_from: Annotated[
        str | None,
        typer.Option(
            help="Real data for each judge's ceiling (default: the matching BENCH:dev; BENCH:test for a classifier "
            "of examples with thresholds tuned on dev)."
        ),
    ] = None,
    ceiling_per_label: Annotated[int, typer.Option(help="Real dev turns per label in the ceiling sample.")] = 20,
    threshold: Annotated[
        float, typer.Option(help="Examples: a classifier score that makes a label (unless it has its own).")
    ] = 0.3,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Fidelity report (default: DATA's .fidelity.json beside it; .fidelity.firstN.json with --first).",
        ),
    ] = None,
    drop_disagreeing: Annotated[
        Path | None, typer.Option(help="Write a filtered dataset here (see --filter-level).")
    ] = None,
    filter_level: Annotated[str, typer.Option(help="turn (relabel) | dialogue (drop)")] = "turn",
    filter_by: Annotated[list[str] | None, typer.Option(help="Judges that must disagree (default: all).")] = None,
    max_disagreement: Annotated[
        float, typer.Option(help="dialogue level: drop when more than this fraction of turns disagree.")
    ] = 0.0,
    seed: Annotated[int, typer.Option()] = 0,
    data_root: Annotated[str | None, typer.Option()] = None,
    first: Annotated[
        int | None, typer.Option(help="Judge only the first N dialogues or examples (the LLM judge is slow).")
    ] = None,
) -> None:
    """Re-label every turn blind (LLM judge, real-data classifier) and report agreement with the labels; examples
    are rated by the classifier, which must confirm the label each was written for."""
    from emosynth.errors import validated
    from emosynth.llm.options import open_backend
    from emosynth.quality.verify import VerifySettings, judge_cache, summary_lines, uses_llm
    from emosynth.quality.verify import verify as verify_data

    try:
        settings = validated(
            VerifySettings,
            json_out=json_out,
            drop_disagreeing=drop_disagreeing,
            filter_level=filter_level,
            filter_by=tuple(filter_by or ()),
            max_disagreement=max_disagreement,
            ceiling_from=ceiling_from,
            ceiling_per_label=ceiling_per_label,
            threshold=threshold,
            seed=seed,
            data_root=data_root,
            first=first,
        )
        records = settings.check(data)  # the data and outputs before any model is loaded
        with open_backend(llm if uses_llm(records, use_llm) else None, cache or judge_cache(data)) as backend:
            report = verify_data(data, settings, classifier, backend)
    except EmosynthError as exc:
        fail(exc)
    for line in summary_lines(report):
        typer.echo(line)
