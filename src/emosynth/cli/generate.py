"""``emosynth generate ...``, ``models`` and ``export``: making and shipping synthetic data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from emosynth.cli.app import app, fail, generate_app, generating, llm_command
from emosynth.errors import ConfigError, EmosynthError

JUDGES = "runs/judges"  # where --judge auto keeps the classifiers it trains


@generate_app.command("dialogues")
@llm_command
def generate_dialogues(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output JSONL (appended to; reruns resume).")],
    llm: Any,
    taxonomy: Annotated[
        str, typer.Option(help="meld, emorynlp, iemocap, dailydialog, goemotions, or a YAML file.")
    ] = "meld",
    mode: Annotated[str, typer.Option(help="natural | balanced")] = "balanced",
    labelling: Annotated[
        str | None, typer.Option("--labelling", "--labels", help="planned | llm (the paper's numbered symbols)")
    ] = None,
    decoding: Annotated[
        str | None, typer.Option(help="template (fill the known JSON; llamacpp) | schema (sample it all)")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="Number of dialogues.")] = 50,
    seed: Annotated[int, typer.Option(help="Seeds scenarios, plans and sampling.")] = 0,
    preset: Annotated[str | None, typer.Option(help="default | paper (llm labels, no cues, no few-shot)")] = None,
    cues: Annotated[bool | None, typer.Option("--cues/--no-cues", help="Per-turn cue lines (planned).")] = None,
    few_shot: Annotated[int | None, typer.Option(help="Real train dialogues shown as style examples.")] = None,
    min_turns: Annotated[int | None, typer.Option()] = None,
    max_turns: Annotated[int | None, typer.Option()] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Tries per dialogue before it is rejected.")] = None,
    replace_given_up: Annotated[
        bool,
        typer.Option(
            "--replace-given-up",
            help="Replace each dialogue given up (rejected after --max-attempts) by a new one, so that -n are kept "
            "(Balanced: one of the same target).",
        ),
    ] = False,
    retry_feedback: Annotated[
        bool | None, typer.Option("--retry-feedback/--no-retry-feedback", help="Tell a retry why it failed.")
    ] = None,
    temperature: Annotated[float | None, typer.Option()] = None,
    cue_file: Annotated[str | None, typer.Option(help="YAML of cue lines per label.")] = None,
    scenario_file: Annotated[str | None, typer.Option(help="YAML of names/topics/settings/relationships.")] = None,
    transitions_file: Annotated[str | None, typer.Option(help="JSON of emotion-transition counts.")] = None,
    cache: Annotated[Path | None, typer.Option(help="SQLite response cache (default: beside the output).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not cache responses.")] = False,
    best_of: Annotated[int | None, typer.Option(help="Candidate utterances per turn; the judge keeps one (1).")] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="Classifier (emosynth train) choosing and scoring turns; several, comma-separated: the mean of their "
            f"probabilities; auto: {JUDGES}/<set>_utterance_cw, trained on first use (auto:context: the context model)"
        ),
    ] = None,
    min_judge_score: Annotated[
        float | None, typer.Option(help="A kept turn the judge scores lower rejects its dialogue (0).")
    ] = None,
    judge_rounds: Annotated[
        int | None, typer.Option(help="Rounds of --best-of candidates a turn below --min-judge-score gets (2).")
    ] = None,
    opener_cap: Annotated[
        float | None,
        typer.Option(
            help="The judge marks down a candidate whose first word would open more than this many times the real "
            "benchmark's top-opener share of its label's turns (e.g. 1.5; off unless given)."
        ),
    ] = None,
    data_root: Annotated[
        str | None, typer.Option(help="Benchmark folder (--few-shot examples, --judge auto, --opener-cap).")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Multi-party dialogues with one emotion label per turn (Kaplan, Carneiro, Wermter 2025)."""
    from emosynth.synth.config import DialogueConfig
    from emosynth.synth.generate import generate_dialogues

    threads = getattr(llm, "n_threads", None)  # the judges' too: --n-threads 1 leaves the other core to a job
    with generating(output):
        if judge:
            # every auto name is checked before any judge trains
            named = [(j, auto_judge(taxonomy, j) if j.partition(":")[0] == "auto" else None) for j in judge.split(",")]
            judge = ",".join(trained_judge(taxonomy, *auto, data_root, threads) if auto else j for j, auto in named)
        config = DialogueConfig.create(
            preset,
            taxonomy=taxonomy,
            mode=mode,
            labelling=labelling,
            decoding=decoding,
            n=n,
            seed=seed,
            cues=cues,
            few_shot=few_shot,
            min_turns=min_turns,
            max_turns=max_turns,
            max_attempts=max_attempts,
            replace_given_up=replace_given_up,
            retry_feedback=retry_feedback,
            temperature=temperature,
            cue_file=cue_file,
            scenario_file=scenario_file,
            transitions_file=transitions_file,
            best_of=best_of,
            judge=judge,
            min_judge_score=min_judge_score,
            judge_rounds=judge_rounds,
            opener_cap=opener_cap,
        )
        chooser = None
        if config.judge:
            from emosynth.quality.judges import ClassifierChooser

            real = real_openers(config.taxonomy, data_root) if config.opener_cap else None
            chooser = ClassifierChooser(config.judge, threads=threads, opener_cap=config.opener_cap, real_openers=real)
        cached = None if no_cache else cache or "auto"
        summary = generate_dialogues(config, output, llm, cached, data_root, progress, chooser)
    typer.echo(f"wrote {output}")
    for line in summary.lines():
        typer.echo(line)


def auto_judge(taxonomy: str, spec: str) -> tuple[str, Path]:
    """What ``--judge auto`` (``auto:MODEL``: another kind, e.g. ``auto:context``) names: the model kind and the run
    folder of the benchmark's class-weighted classifier, ``runs/judges/<set>_<model>_cw``."""
    from emosynth.data.benchmarks import ERC_BENCHMARKS
    from emosynth.train.models import MODELS

    model = spec.partition(":")[2] or "utterance"
    if model not in MODELS:
        raise ConfigError(f"--judge {spec}: unknown model '{model}'; expected one of {', '.join(MODELS)}")
    if taxonomy not in ERC_BENCHMARKS:
        raise ConfigError(f"--judge {spec} needs a benchmark to train on; there is none for '{taxonomy}'")
    return model, Path(JUDGES) / f"{taxonomy}_{model}_cw"


def real_openers(taxonomy: str, data_root: str | None) -> dict[str, float]:
    """Each label's top-opener share in the benchmark's train split (``inspect``'s openers): what --opener-cap
    multiplies."""
    from emosynth.data.benchmarks import ERC_BENCHMARKS
    from emosynth.quality.corpus import load_corpus
    from emosynth.quality.describe import openers

    if taxonomy not in ERC_BENCHMARKS:
        raise ConfigError(f"--opener-cap compares with a benchmark's openers; there is none for '{taxonomy}'")
    return {label: stats["word_share"] for label, stats in openers(load_corpus(f"{taxonomy}:train", data_root)).items()}


def trained_judge(taxonomy: str, model: str, run_dir: Path, data_root: str | None, threads: int | None = None) -> str:
    """The saved judge in ``run_dir``, trained first by ``emosynth train --class-weights`` if missing (a context
    model reads 128 tokens; on ``threads`` CPU threads, all by default)."""
    if not (run_dir / "model" / "emosynth.json").exists():
        from emosynth.train.args import TrainingArguments
        from emosynth.train.regimes import RunConfig, run

        typer.echo(f"training the judge {run_dir} (once: emosynth train --class-weights on {taxonomy})", err=True)
        training = TrainingArguments(class_weights=True, progress=False, threads=threads)
        length = None if model == "utterance" else 128
        values = {"model": model, "data_root": data_root, "training": training, "max_length": length}
        run(RunConfig.create(benchmark=taxonomy, **values), run_dir)
    return (run_dir / "model").as_posix()


@generate_app.command("pillars")
@llm_command
def generate_pillars(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder (reruns resume).")],
    llm: Any,
    stories: Annotated[str, typer.Option(help="FairytaleQA folder, folder of .txt files, or JSONL of {id, text}.")],
    n: Annotated[
        int, typer.Option("-n", help="Context-less examples asked for (with a rater: accepted ones, in rounds).")
    ] = 90,
    seed: Annotated[int, typer.Option(help="Seeds passage order, characters, targets and sampling.")] = 0,
    per_call: Annotated[int | None, typer.Option(help="Utterances asked for per call (6).")] = None,
    contexts_per_call: Annotated[
        int | None, typer.Option(help="Of a call's accepted utterances, how many get a context (1).")
    ] = None,
    max_calls: Annotated[int | None, typer.Option(help="Most utterance calls, with a rater (4 n / per-call).")] = None,
    round_calls: Annotated[
        int | None,
        typer.Option(help="New utterance calls per round, with a rater; each round is kept (60)."),
    ] = None,
    passage_words: Annotated[int | None, typer.Option(help="Longest passage in words (300).")] = None,
    max_characters: Annotated[int | None, typer.Option(help="Characters taken per passage (4).")] = None,
    calls_per_passage: Annotated[int | None, typer.Option(help="Utterance calls per passage (4).")] = None,
    decoding: Annotated[str | None, typer.Option(help="template (llamacpp) | schema")] = None,
    max_attempts: Annotated[int | None, typer.Option(help="Tries per call before it is given up (3).")] = None,
    temperature: Annotated[float | None, typer.Option()] = None,
    rater_classifier: Annotated[
        str | None, typer.Option(help="Classifier (emosynth train) whose scores give the soft labels.")
    ] = None,
    rater_llm: Annotated[
        int, typer.Option(help="Replies per example of the run's LLM as a rater (0: none; with a classifier: both).")
    ] = 0,
    label_threshold: Annotated[float | None, typer.Option(help="Rater score that makes a label (0.3).")] = None,
    cache: Annotated[Path | None, typer.Option(help="SQLite response cache (default: in the folder).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not cache responses.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    no_calls: Annotated[
        bool, typer.Option("--no-calls", help="No new stage calls: rebuild and rate the examples from the stage files.")
    ] = False,
) -> None:
    """Story-grounded utterances with contexts over the 28 GoEmotions classes (Emo Pillars, Shvets 2025)."""
    from emosynth.synth.pillars.config import PillarsConfig
    from emosynth.synth.pillars.generate import generate

    with generating(output):
        config = PillarsConfig.create(
            n=n,
            seed=seed,
            per_call=per_call,
            contexts_per_call=contexts_per_call,
            max_calls=max_calls,
            round_calls=round_calls,
            passage_words=passage_words,
            max_characters=max_characters,
            calls_per_passage=calls_per_passage,
            decoding=decoding,
            max_attempts=max_attempts,
            temperature=temperature,
            label_threshold=label_threshold,
        )
        raters = rater_factory(rater_classifier, rater_llm, config)
        cached = None if no_cache else cache or "auto"
        summary = generate(config, stories, output, llm, cached, progress, raters, not no_calls)
    typer.echo(f"wrote {output}/pillars_contextless.jsonl and {output}/pillars_contextual.jsonl")
    for line in summary.lines():
        typer.echo(line)


def rater_factory(classifier: str | None, llm_samples: int, config):
    """What ``generate pillars`` rates with, built once the backend is open: a classifier, the run's LLM, or both
    (their scores averaged); None without either."""
    if not classifier and not llm_samples:
        return None
    from emosynth.quality.raters import ClassifierRater, CombinedRater, LLMRater
    from emosynth.taxonomy import get_taxonomy

    def build(llm):
        raters = [ClassifierRater(classifier)] if classifier else []
        if llm_samples:
            raters.append(LLMRater(llm, get_taxonomy(config.taxonomy), llm_samples, seed=config.seed))
        return raters[0] if len(raters) == 1 else CombinedRater(raters, config.label_threshold)

    return build


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
            fail(exc)
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
        fail(exc)
    typer.echo(f"wrote {n} rows to {output}")
