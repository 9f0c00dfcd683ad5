"""Command line: parses arguments, calls the library, prints. ``emosynth --help``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from emosynth.errors import EmosynthError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
generate_app = typer.Typer(no_args_is_help=True, help="Generate synthetic data.")
app.add_typer(generate_app, name="generate")


# options shared by every command that talks to an LLM through the ray backend
RayAddress = Annotated[str | None, typer.Option(help="Ray cluster (auto, HOST:PORT, ray://...); default: a local one.")]
Replicas = Annotated[int | None, typer.Option(help="Model replicas (ray backend; default CPUs/cpus-per-replica).")]
CpusPerReplica = Annotated[int, typer.Option(help="CPUs and llama.cpp threads per replica (ray).")]


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def make_backend(
    backend: str,
    model: str | None,
    base_url: str | None,
    api_key_env: str,
    concurrency: int,
    schema_dialect: str,
    cache: Path | None,
    ray_address: str | None = None,
    replicas: int | None = None,
    cpus_per_replica: int = 1,
):
    """The backend by registry name, wrapped in the response cache unless ``cache`` is None."""
    from emosynth.llm.base import get_backend
    from emosynth.llm.cache import CachedBackend, ResponseCache

    llm = get_backend(
        backend,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        concurrency=concurrency,
        schema_dialect=schema_dialect,
        **(dict(address=ray_address, replicas=replicas, cpus_per_replica=cpus_per_replica) if backend == "ray" else {}),
    )
    return CachedBackend(llm, ResponseCache(cache)) if cache else llm


def few_shot_pool(taxonomy: str, k: int):
    if not k:
        return None
    from emosynth.data.emorynlp import read_emorynlp
    from emosynth.data.meld import read_meld

    readers = {"meld": read_meld, "emorynlp": read_emorynlp}
    if taxonomy not in readers:
        raise EmosynthError(f"--few-shot needs a benchmark train split; available for: {', '.join(readers)}")
    return readers[taxonomy]("train")


@generate_app.command("dialogues")
def generate_dialogues(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output JSONL (appended to; reruns resume).")],
    taxonomy: Annotated[
        str, typer.Option(help="meld, emorynlp, iemocap, dailydialog, goemotions, or a YAML file.")
    ] = "meld",
    mode: Annotated[str, typer.Option(help="natural | balanced")] = "balanced",
    labels: Annotated[str | None, typer.Option(help="planned | llm (the paper's numbered symbols)")] = None,
    n: Annotated[int, typer.Option("-n", help="Number of dialogues.")] = 50,
    seed: Annotated[int, typer.Option(help="Seeds scenarios, plans and sampling.")] = 0,
    preset: Annotated[str | None, typer.Option(help="default | paper (llm labels, no cues, no few-shot)")] = None,
    cues: Annotated[bool | None, typer.Option("--cues/--no-cues", help="Per-turn cue lines (planned).")] = None,
    few_shot: Annotated[int | None, typer.Option(help="Real train dialogues shown as style examples.")] = None,
    min_turns: Annotated[int | None, typer.Option()] = None,
    max_turns: Annotated[int | None, typer.Option()] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Tries per dialogue before it is rejected.")] = None,
    retry_feedback: Annotated[
        bool | None, typer.Option("--retry-feedback/--no-retry-feedback", help="Tell a retry why it failed.")
    ] = None,
    temperature: Annotated[float | None, typer.Option()] = None,
    cue_file: Annotated[str | None, typer.Option(help="YAML of cue lines per label.")] = None,
    scenario_file: Annotated[str | None, typer.Option(help="YAML of names/topics/settings/relationships.")] = None,
    transitions_file: Annotated[str | None, typer.Option(help="JSON of emotion-transition counts.")] = None,
    backend: Annotated[str, typer.Option(help="llamacpp | openai | transformers | ray")] = "llamacpp",
    model: Annotated[str | None, typer.Option(help="Embedded model name, GGUF/HF path, or served model.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    ] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key.")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(help="Requests in flight (openai backend).")] = 4,
    schema_dialect: Annotated[str, typer.Option(help="auto | json_schema | json_object | none")] = "auto",
    ray_address: RayAddress = None,
    replicas: Replicas = None,
    cpus_per_replica: CpusPerReplica = 1,
    cache: Annotated[Path | None, typer.Option(help="SQLite response cache (default: beside the output).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not cache responses.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Multi-party dialogues with one emotion label per turn (Kaplan, Carneiro, Wermter 2025)."""
    from emosynth.synth.config import DialogueConfig
    from emosynth.synth.dialogues import DialogueSynthesizer, check_resumable, sidecar

    try:
        config = DialogueConfig.create(
            preset,
            taxonomy=taxonomy,
            mode=mode,
            labels=labels,
            n=n,
            seed=seed,
            cues=cues,
            few_shot=few_shot,
            min_turns=min_turns,
            max_turns=max_turns,
            max_attempts=max_attempts,
            retry_feedback=retry_feedback,
            temperature=temperature,
            cue_file=cue_file,
            scenario_file=scenario_file,
            transitions_file=transitions_file,
        )
        from emosynth.data.io import ensure_writable
        from emosynth.taxonomy import get_taxonomy

        get_taxonomy(config.taxonomy)  # fail on bad input before loading a model
        check_resumable(output, config.model_dump() | {"prompt_version": config.resolved_prompt_version})
        ensure_writable(output)
        cache_path = None if no_cache else (cache or sidecar(output, "cache.sqlite"))
        llm = make_backend(
            backend,
            model,
            base_url,
            api_key_env,
            concurrency,
            schema_dialect,
            cache_path,
            ray_address,
            replicas,
            cpus_per_replica,
        )
        try:
            synth = DialogueSynthesizer(config, llm, few_shot_pool(config.taxonomy, config.few_shot))
            summary = synth.run(output, progress=progress)
        finally:
            llm.close()
    except EmosynthError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; everything written so far is kept in {output} (rerun to resume)", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"wrote {output}")
    for line in summary.lines():
        typer.echo(line)


@app.command("models")
def models(
    prepare: Annotated[bool, typer.Option("--prepare", help="Assemble and verify the model files.")] = False,
):
    """List the embedded models (shipped in PyPI wheels) and, with --prepare, assemble and verify them."""
    from emosynth.llm.embedded import DEFAULT_MODEL, MODELS, model_path, status

    for name, spec in MODELS.items():
        mark = "*" if name == DEFAULT_MODEL else " "
        try:
            state = f"verified: {model_path(name)}" if prepare else status(name)
        except EmosynthError as exc:
            _fail(exc)
        typer.echo(f"{mark} {name:20s} {spec.description}  [{state}]")


@app.command("export")
def export(
    data: Annotated[Path, typer.Argument(help="Dialogue JSONL.")],
    output: Annotated[Path, typer.Option("--output", "-o")],
    fmt: Annotated[str, typer.Option("--format", help="parquet | hf | meld-csv | emorynlp-csv | turn-tsv")] = "parquet",
) -> None:
    """Export dialogues to Parquet, a Hugging Face dataset, or a benchmark's own layout."""
    from emosynth.data.export import export_dialogues
    from emosynth.data.io import read_dialogues

    try:
        n = export_dialogues(read_dialogues(data), output, fmt)
    except EmosynthError as exc:
        _fail(exc)
    typer.echo(f"wrote {n} rows to {output}")


def run() -> None:  # pragma: no cover - console entry
    sys.exit(app())


@app.command("train")
def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory: model/ and results.json.")],
    model: Annotated[str, typer.Option(help="utterance | context | compm")] = "utterance",
    benchmark: Annotated[
        str,
        typer.Option(help="meld | emorynlp | emorynlp-full | iemocap | dailydialog | goemotions | isear | emocontext"),
    ] = "meld",
    regime: Annotated[str, typer.Option(help="real | synthetic->real | mixed | synthetic")] = "real",
    synthetic: Annotated[str | None, typer.Option(help="Synthetic dialogue JSONL.")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    epochs: Annotated[int, typer.Option()] = 2,
    pretrain_epochs: Annotated[int, typer.Option(help="Epochs on synthetic data (synthetic->real).")] = 1,
    learning_rate: Annotated[float, typer.Option()] = 5e-5,
    batch_size: Annotated[int, typer.Option()] = 32,
    class_weights: Annotated[bool, typer.Option("--class-weights/--no-class-weights")] = False,
    backbone: Annotated[str | None, typer.Option(help="Local HF encoder dir (default: packaged MiniLM).")] = None,
    max_length: Annotated[int | None, typer.Option()] = None,
    data_root: Annotated[str | None, typer.Option(help="Benchmark folder (default: ../shared/data/...).")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Train an ERC classifier in one regime; select on the real dev split, test once."""
    try:
        from emosynth.train.loop import TrainingArguments
        from emosynth.train.regimes import RunConfig, run

        args = TrainingArguments(
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            class_weights=class_weights,
            seed=seed,
            progress=progress,
        )
        config = RunConfig(
            benchmark,
            model,
            regime,
            synthetic,
            seed,
            backbone=backbone,
            max_length=max_length,
            data_root=data_root,
            pretrain_epochs=pretrain_epochs,
            training=args,
        )
        result = run(config, output)
    except EmosynthError as exc:
        _fail(exc)
    typer.echo(
        f"{benchmark} {model} {regime} seed {seed}: weighted-F1 {result['weighted_f1']:.4f}, "
        f"macro-F1 {result['macro_f1']:.4f} -> {output / 'results.json'}"
    )


@app.command("evaluate")
def evaluate(
    model_dir: Annotated[Path, typer.Argument(help="A saved classifier (RUN/model).")],
    benchmark: Annotated[str, typer.Option()] = "meld",
    split: Annotated[str, typer.Option()] = "test",
    data_root: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Evaluate a saved classifier on a benchmark split; prints the metrics as JSON."""
    import json

    try:
        from emosynth.data.benchmarks import load_split, taxonomy_name
        from emosynth.taxonomy import get_taxonomy
        from emosynth.train.loop import Trainer, TrainingArguments
        from emosynth.train.models import load_model
        from emosynth.train.regimes import items_of

        classifier = load_model(model_dir)
        items = items_of(load_split(benchmark, split, data_root), get_taxonomy(taxonomy_name(benchmark)))
        metrics = Trainer(classifier, TrainingArguments(), [], benchmark=benchmark).evaluate(items)
    except EmosynthError as exc:
        _fail(exc)
    typer.echo(json.dumps(metrics, indent=1))


@app.command("predict")
def predict(model_dir: Annotated[Path, typer.Argument(help="A saved classifier (RUN/model).")]) -> None:
    """Label a dialogue: JSON on stdin (``{"turns": [{"speaker", "text"}]}``), one label per turn out."""
    import json

    try:
        from emosynth.records import Dialogue, Turn
        from emosynth.train.items import turn_items
        from emosynth.train.loop import Trainer, TrainingArguments
        from emosynth.train.models import load_model

        try:
            raw = json.load(sys.stdin)
            turns = [Turn(t["speaker"], t["text"], "") for t in raw["turns"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmosynthError(f'stdin: expected {{"turns": [{{"speaker", "text"}}, ...]}} ({exc})') from exc
        classifier = load_model(model_dir)
        items = turn_items([Dialogue("stdin", turns, "")], None)
        labels = Trainer(classifier, TrainingArguments(), []).predict(items)
    except EmosynthError as exc:
        _fail(exc)
    out = [{"speaker": t.speaker, "text": t.text, "emotion": classifier.labels[k]} for t, k in zip(turns, labels)]
    typer.echo(json.dumps({"turns": out}, ensure_ascii=False))


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
    """Size, labels, transitions, lengths, lexical/semantic diversity, repeats, duplicates, label-word leakage."""
    import json

    try:
        from emosynth.quality.corpus import load_corpus
        from emosynth.quality.inspect import SentenceEncoder, format_table, inspect

        corpora = [load_corpus(spec, data_root) for spec in data]
        real = load_corpus(against, data_root) if against else None
        encoder = SentenceEncoder() if semantic else None
        reports = [inspect(c, real, encoder, sample, seed) for c in corpora]
        if real is not None:
            reports.append(inspect(real, real, encoder, sample, seed))
        if json_out is not None:
            from emosynth.data.io import ensure_writable

            ensure_writable(json_out)
            json_out.write_text(json.dumps(reports, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except EmosynthError as exc:
        _fail(exc)
    typer.echo(format_table(reports))


@app.command("verify")
def verify(
    data: Annotated[Path, typer.Argument(help="Synthetic dialogue JSONL.")],
    classifier: Annotated[
        Path | None, typer.Option(help="Classifier judge: a model saved by `emosynth train` (RUN/model).")
    ] = None,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Use an LLM judge.")] = True,
    backend: Annotated[
        str, typer.Option(help="LLM judge backend: llamacpp | openai | transformers | ray")
    ] = "llamacpp",
    model: Annotated[str | None, typer.Option(help="LLM judge model (default: the embedded default).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server of the LLM judge.")] = None,
    api_key_env: Annotated[str, typer.Option()] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option()] = 4,
    schema_dialect: Annotated[str, typer.Option()] = "auto",
    ray_address: RayAddress = None,
    replicas: Replicas = None,
    cpus_per_replica: CpusPerReplica = 1,
    cache: Annotated[Path | None, typer.Option(help="LLM judge cache (default: beside the data).")] = None,
    ceiling_from: Annotated[
        str | None, typer.Option(help="Real turns for each judge's ceiling (default: the matching BENCH:dev).")
    ] = None,
    ceiling_per_label: Annotated[int, typer.Option(help="Real dev turns per label in the ceiling sample.")] = 20,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Fidelity report (default: DATA's .fidelity.json beside it).")
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
) -> None:
    """Re-label every turn blind (LLM judge, real-data classifier) and report agreement with the labels."""
    import json

    from emosynth.data.io import ensure_writable, read_dialogues
    from emosynth.quality.fidelity import ClassifierJudge, LLMJudge, fidelity_report, write_filtered
    from emosynth.synth.dialogues import sidecar
    from emosynth.taxonomy import get_taxonomy

    llm_backend = None
    try:
        json_out = json_out or sidecar(data, "fidelity.json")
        for path in (json_out, drop_disagreeing):
            if path is not None:
                ensure_writable(path)
        if drop_disagreeing is not None and drop_disagreeing.resolve() == data.resolve():
            raise EmosynthError(f"--drop-disagreeing {drop_disagreeing} would overwrite the data; choose another path")
        dialogues = read_dialogues(data)
        if not dialogues:
            raise EmosynthError(f"{data}: no dialogues to verify")
        tax = get_taxonomy(dialogues[0].taxonomy)
        judges = []
        if classifier is not None:
            judges.append(ClassifierJudge(str(classifier)))
        if llm:
            cache_path = cache or sidecar(data, "judge.cache.sqlite")
            llm_backend = make_backend(
                backend,
                model,
                base_url,
                api_key_env,
                concurrency,
                schema_dialect,
                cache_path,
                ray_address,
                replicas,
                cpus_per_replica,
            )
            judges.append(LLMJudge(llm_backend, tax, seed=seed))
            if (dialogues[0].backend, dialogues[0].model) == (llm_backend.name, llm_backend.model_id):
                typer.echo(
                    f"warning: the LLM judge is the model that wrote {data} ({llm_backend.model_id}); "
                    "it grades its own labels (use a stronger served model with --backend openai)",
                    err=True,
                )
        if not judges:
            raise EmosynthError("no judge: give --classifier RUN/model and/or keep --llm")
        report, verdicts = fidelity_report(dialogues, judges, ceiling_from, ceiling_per_label, seed, data_root)
        report = {"data": str(data)} | report
        if drop_disagreeing is not None:
            by = tuple(filter_by or ())
            report["filter"] = write_filtered(
                verdicts, drop_disagreeing, filter_level, by, max_disagreement, source=data
            )
        json_out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    except EmosynthError as exc:
        _fail(exc)
    finally:
        if llm_backend is not None:
            llm_backend.close()
    for name, entry in report["judges"].items():
        ag, ceil = entry["agreement"], entry.get("ceiling")
        line = (
            f"{name} judge ({entry['model']}): agreement {ag['overall']} "
            f"(per-label mean {ag['macro']}) over {ag['n']} turns"
        )
        if ceil:
            line += f"; its ceiling on balanced real dev turns {ceil['overall']} (n={ceil['n']})"
        typer.echo(line)
        typer.echo("  per label: " + ", ".join(f"{k} {v:.2f}" for k, v in ag["per_label"].items()))
    if "filter" in report:
        f = report["filter"]
        typer.echo(
            f"filtered ({f['level']}): {f['dialogues_out']} of {f['dialogues_in']} dialogues kept, "
            f"{f['turns_relabelled']} turns relabelled -> {f['output']}"
        )


@app.command("experiment")
def experiment(
    config_path: Annotated[
        Path, typer.Argument(help="Experiment YAML (benchmarks, models, regimes, synthetic, seeds).")
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: experiments/<name>.")] = None,
    limit: Annotated[int | None, typer.Option(help="Run at most this many unfinished cells now.")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html/.md afterwards.")] = True,
) -> None:
    """Run the grid (resuming), then the Friedman test over regimes and the report."""
    import json

    try:
        from emosynth.experiment.config import ExperimentConfig
        from emosynth.experiment.runner import run_experiment
        from emosynth.experiment.stats import analyse

        config = ExperimentConfig.load(config_path)
        root = output or Path("experiments") / config.name
        rows = run_experiment(config, root, limit=limit)
        stats = analyse(rows)
        if report:  # the report writes friedman.json too
            from emosynth.report.build import build_report

            build_report(root)
        else:
            (root / "friedman.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    except EmosynthError as exc:
        _fail(exc)
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
        _fail(exc)
    typer.echo(f"wrote {html} and {md}")
