"""``emosynth generate dialogues``: check the inputs, open the backend, generate into a JSONL file (resuming)."""

from __future__ import annotations

from pathlib import Path

from emosynth.data.io import ensure_writable, sidecar
from emosynth.judge import Chooser
from emosynth.llm.options import BackendOptions, open_backend
from emosynth.synth.config import DialogueConfig
from emosynth.synth.dialogues import DialogueSynthesizer, check_output
from emosynth.synth.specs import few_shot_pool
from emosynth.synth.summary import RunSummary
from emosynth.taxonomy import get_taxonomy


def generate_dialogues(
    config: DialogueConfig,
    output: str | Path,
    options: BackendOptions,
    cache: str | Path | None = "auto",
    data_root: str | None = None,
    progress: bool = True,
    chooser: Chooser | None = None,
) -> RunSummary:
    """``emosynth generate dialogues``: check the inputs, open the backend, generate into ``output`` (resuming).

    Args:
        config: the run's settings.
        output: the dialogue JSONL (appended to; its sidecars beside it).
        options: the LLM backend's options.
        cache: the response cache; ``"auto"`` puts it beside the output, None disables it.
        data_root: benchmark folder for few-shot examples.
        progress: show a progress bar.
        chooser: the judge of ``config.judge`` (best-of-n).
    """
    output = Path(output)
    get_taxonomy(config.taxonomy)  # fail on bad input before loading a model
    # decoding is compared once the backend is known (one that cannot fill templates decodes under the schema)
    check_output(output, config.model_dump(exclude={"decoding"}) | {"prompt_version": config.resolved_prompt_version})
    ensure_writable(output)
    pool = few_shot_pool(config.taxonomy, config.few_shot, data_root)
    with open_backend(options, sidecar(output, "cache.sqlite") if cache == "auto" else cache) as llm:
        return DialogueSynthesizer(config, llm, pool, chooser).run(output, progress=progress)
