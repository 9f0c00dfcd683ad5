"""``emosynth experiment`` and ``report``: the grid, its statistics and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emosynth.cli.app import app, fail
from emosynth.errors import EmosynthError


@app.command("experiment")
def experiment(
    config_path: Annotated[
        Path, typer.Argument(help="Experiment YAML (benchmarks, models, regimes, synthetic, seeds).")
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: experiments/<name>.")] = None,
    limit: Annotated[int | None, typer.Option(help="Run at most this many unfinished cells now.")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html/.md afterwards.")] = True,
    benchmark: Annotated[
        list[str] | None,
        typer.Option(
            "--benchmark",
            "-b",
            help="Run only this benchmark's cells now (repeatable); the others' files need not exist yet.",
        ),
    ] = None,
    treatment: Annotated[
        list[str] | None,
        typer.Option(
            "--treatment",
            "-t",
            help="Run only this treatment's cells now: real, or a synthetic dataset's name (repeatable); the other "
            "datasets need not exist yet.",
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Run only this model's cells now (repeatable), say the cheaper one first."),
    ] = None,
    seed: Annotated[
        list[int] | None,
        typer.Option("--seed", "-s", help="Run only this seed's cells now (repeatable)."),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="CPU threads per cell (default: all cores); fewer leave cores to another job."),
    ] = None,
) -> None:
    """Run the grid (resuming), then the Friedman test over regimes and the report.

    Several processes may run one experiment at once (say, one per core with --threads 1): each cell is locked while
    it trains, and the others pass it by.
    """
    try:
        from emosynth.experiment.config import ExperimentConfig
        from emosynth.experiment.runner import run_experiment

        config = ExperimentConfig.load(config_path, only=benchmark, treatments=treatment)
        root = output or Path("experiments") / config.name
        rows, stats = run_experiment(
            config, root, limit=limit, only=benchmark, treatments=treatment, models=model, threads=threads, seeds=seed
        )
        if report:
            from emosynth.report.build import build_report

            build_report(root)
    except EmosynthError as exc:
        fail(exc)
    typer.echo(f"{len(rows)} of {len(config.cells())} cells finished -> {root}/results.jsonl")
    if stats["incomplete_blocks"]:
        typer.echo(f"left out of the test, missing a regime: {stats['incomplete_blocks']}")
    if stats["ok"]:
        typer.echo(
            f"Friedman chi2 {stats['statistic']:.3f}, p = {stats['p_value']:.3g} over {stats['n_blocks']} blocks; "
            "average ranks: " + ", ".join(f"{k} {v:.2f}" for k, v in stats["average_ranks"].items())
        )
    else:
        typer.echo(f"no Friedman test: {stats['reason']}")


@app.command("report")
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="An experiment directory (experiments/<name>).")],
    semantic: Annotated[bool, typer.Option("--semantic/--no-semantic", help="MiniLM diversity in quality.")] = True,
) -> None:
    """One self-contained HTML report (plots embedded) and a Markdown summary of an experiment."""
    try:
        from emosynth.report.build import build_report

        html, md = build_report(run_dir, semantic)
    except EmosynthError as exc:
        fail(exc)
    typer.echo(f"wrote {html} and {md}")
