"""``emosynth generate pillars``: read and split the stories, open the backend, run the pipeline into a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emosynth.data.io import check_resumable, ensure_writable, sidecar
from emosynth.data.paths import shown
from emosynth.data.stories import load_passages
from emosynth.judge import Rater
from emosynth.llm.base import LLMBackend
from emosynth.llm.options import BackendOptions, open_backend
from emosynth.synth.pillars.config import PillarsConfig
from emosynth.synth.pillars.run import RESUME_KEYS, PillarsSynthesizer
from emosynth.synth.pillars.summary import PillarsSummary


def generate(
    config: PillarsConfig,
    stories: str | Path,
    output: str | Path,
    options: BackendOptions,
    cache: str | Path | None = "auto",
    progress: bool = True,
    rater: Callable[[LLMBackend], Rater | None] | None = None,
    calls: bool = True,
) -> PillarsSummary:
    """``emosynth generate pillars``: read and split the stories, open the backend, run into the folder ``output``.

    Args:
        config: the run's settings.
        stories: a FairytaleQA folder, a folder of .txt files or a JSONL of {id, text}.
        output: the run's folder (``pillars_contextless.jsonl``, ``pillars_contextual.jsonl`` and the stage files).
        options: the LLM backend's options.
        cache: the response cache; ``"auto"`` puts it in the folder, None disables it.
        progress: a bar per stage.
        rater: builds the rater of the soft labels once the backend is open (so that it may rate with the run's
            own LLM, through its response cache); None, or a rater of None: the target is the label.
        calls: False makes no LLM call for the stages (``PillarsSynthesizer.run``).
    """
    out = Path(output) / "pillars.jsonl"
    # decoding is compared once the backend is known (one that cannot fill templates decodes under the schema)
    check_resumable(out, config.model_dump(exclude={"decoding"}) | {"stories": shown(stories)}, RESUME_KEYS)
    passages = load_passages(stories, config.passage_words)  # bad input fails before a model loads
    ensure_writable(out)
    with open_backend(options, sidecar(out, "cache.sqlite") if cache == "auto" else cache) as llm:
        synthesizer = PillarsSynthesizer(config, llm, passages, shown(stories), rater(llm) if rater else None)
        return synthesizer.run(out, progress, calls)
