"""``emosynth train``, ``evaluate`` and ``predict``: classifiers on real and synthetic data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from emosynth.cli.app import app, fail, llm_command
from emosynth.errors import ConfigError, EmosynthError


@app.command("train")
def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Run directory: model/ and results.json.")],
    model: Annotated[str, typer.Option(help="utterance | context | compm | todkat")] = "utterance",
    benchmark: Annotated[
        str,
        typer.Option(help="meld | emorynlp | emorynlp-full | iemocap | dailydialog | goemotions | isear | emocontext"),
    ] = "meld",
    regime: Annotated[str, typer.Option(help="real | synthetic->real | mixed | synthetic")] = "real",
    synthetic: Annotated[str | None, typer.Option(help="Synthetic dialogues or examples (JSONL).")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    train_size: Annotated[int | None, typer.Option(help="Train on a seeded sample of this many real examples.")] = None,
    train_dialogues: Annotated[
        int | None, typer.Option(help="Train on the train dialogues `emosynth knowledge --dialogues N` asks about.")
    ] = None,
    epochs: Annotated[int, typer.Option()] = 2,
    pretrain_epochs: Annotated[int, typer.Option(help="Epochs on synthetic data (synthetic->real).")] = 1,
    learning_rate: Annotated[float, typer.Option()] = 5e-5,
    batch_size: Annotated[int, typer.Option()] = 32,
    class_weights: Annotated[bool, typer.Option("--class-weights/--no-class-weights")] = False,
    backbone: Annotated[str | None, typer.Option(help="Local HF encoder dir (default: packaged MiniLM).")] = None,
    max_length: Annotated[int | None, typer.Option()] = None,
    knowledge: Annotated[
        str | None, typer.Option(help="todkat: knowledge file (emosynth knowledge, or ATOMIC/COMET as JSONL).")
    ] = None,
    relations: Annotated[
        str | None,
        typer.Option(help="todkat: read only these relation types of the knowledge, comma-separated (an ablation)."),
    ] = None,
    min_knowledge_coverage: Annotated[
        float,
        typer.Option(min=0, max=1, help="todkat: fail when the knowledge covers less of a split's turns (0: train)."),
    ] = 0.9,
    data_root: Annotated[str | None, typer.Option(help="Benchmark folder (default: ../shared/data/...).")] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="CPU threads (default: all cores); fewer leave cores to another job.")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Train an ERC classifier in one regime; select on the real dev split, test once."""
    try:
        from emosynth.train.args import TrainingArguments
        from emosynth.train.regimes import RunConfig, run

        config = RunConfig.create(
            benchmark=benchmark,
            model=model,
            regime=regime,
            synthetic=synthetic,
            seed=seed,
            train_size=train_size,
            train_dialogues=train_dialogues,
            backbone=backbone,
            max_length=max_length,
            knowledge=knowledge,
            relations=relations.split(",") if relations is not None else None,
            min_knowledge_coverage=min_knowledge_coverage,
            data_root=data_root,
            training=TrainingArguments(
                epochs=epochs,
                pretrain_epochs=pretrain_epochs,
                learning_rate=learning_rate,
                batch_size=batch_size,
                class_weights=class_weights,
                threads=threads,
                progress=progress,
            ),
        )
        result = run(config, output)
    except EmosynthError as exc:
        fail(exc)
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
    tune_thresholds: Annotated[
        bool, typer.Option("--tune-thresholds", help="Multi-label: tune per-label thresholds on this split, save.")
    ] = False,
) -> None:
    """Evaluate a saved classifier on a benchmark split; prints the metrics as JSON."""
    import json

    try:
        from emosynth.train.inference import evaluate_on

        metrics = evaluate_on(model_dir, benchmark, split, data_root, tune_thresholds)
    except EmosynthError as exc:
        fail(exc)
    typer.echo(json.dumps(metrics, indent=1))


@app.command("predict")
def predict(model_dir: Annotated[Path, typer.Argument(help="A saved classifier (RUN/model).")]) -> None:
    """Label a dialogue: JSON on stdin (``{"turns": [{"speaker", "text"}]}``), one label per turn out."""
    import json

    try:
        from emosynth.train.inference import label_turns

        try:
            raw = json.load(sys.stdin)
            turns = [(t["speaker"], t["text"]) for t in raw["turns"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmosynthError(f'stdin: expected {{"turns": [{{"speaker", "text"}}, ...]}} ({exc})') from exc
        labels = label_turns(model_dir, turns)
    except EmosynthError as exc:
        fail(exc)
    out = [{"speaker": s, "text": t, "emotion": label} for (s, t), label in zip(turns, labels)]
    typer.echo(json.dumps({"turns": out}, ensure_ascii=False))


@app.command("knowledge")
@llm_command
def knowledge(
    data: Annotated[
        list[str], typer.Argument(help="Dialogues: benchmark splits (meld:train meld:dev meld:test) or JSONL files.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Knowledge file (JSONL; reruns resume).")],
    llm: Any,
    dialogues: Annotated[
        int | None,
        typer.Option(help="The seeded sample of this many dialogues of each split that --train-dialogues trains on."),
    ] = None,
    per_call: Annotated[int, typer.Option(help="Utterances per LLM call (each is still read on its own).")] = 1,
    seed: Annotated[int, typer.Option(help="Seeds the LLM's sampling.")] = 0,
    cache: Annotated[Path | None, typer.Option(help="SQLite response cache (default: beside the output).")] = None,
    data_root: Annotated[str | None, typer.Option(help="Benchmark folder (default: ../shared/data/...).")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Commonsense inferences (ATOMIC relation types) per utterance with the LLM, for TODKAT (--knowledge)."""
    from emosynth.cli.app import generating
    from emosynth.data.io import ensure_writable, sidecar
    from emosynth.llm.options import open_backend
    from emosynth.quality.corpus import load_corpus
    from emosynth.synth.knowledge import merged, utterances, write_knowledge

    with generating(output):
        parts = []
        for spec in data:  # one file for every split given, each utterance once
            corpus = load_corpus(spec, data_root)
            if not corpus.is_dialogue:
                raise ConfigError(f"{spec}: TODKAT's knowledge is for dialogues, and this holds examples")
            parts.append(utterances(corpus.dialogues, dialogues))  # the sample train_dialogues trains on
        lines = merged(*parts)
        ensure_writable(output)
        with open_backend(llm, cache or sidecar(output, "cache.sqlite")) as backend:
            asked = {"data": data, "dialogues": dialogues, "seed": seed, "llm": llm.model_dump(exclude_none=True)}
            summary = write_knowledge(lines, backend, output, per_call, seed, asked, progress)
    typer.echo(
        f"{summary['covered']} of {summary['utterances']} utterances have knowledge in {output} "
        f"({summary['new']} new, {summary['failed']} without inferences; {summary['llm_calls']} LLM calls, "
        f"{summary['seconds']} s)"
    )
