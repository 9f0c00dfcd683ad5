"""``emosynth verify``: judge a synthetic dataset's labels, report agreement next to each judge's ceiling, and
optionally write a filtered copy. The CLI and ``benchmarks/label_fidelity.py`` both call ``verify``.

Dialogues are re-labelled turn by turn by blind judges (``agreement``); utterance-level examples (Emo Pillars)
are rated by a classifier whose labels must confirm theirs (``example_fidelity``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emosynth.data.io import ensure_writable, read_records, sidecar, write_atomic
from emosynth.data.paths import shown
from emosynth.errors import ConfigError
from emosynth.judge import Judge, chooser_models
from emosynth.llm.base import LLMBackend
from emosynth.quality.agreement import fidelity_report
from emosynth.quality.example_fidelity import example_fidelity_report
from emosynth.quality.example_fidelity import summary_lines as example_summary_lines
from emosynth.quality.filtering import write_filtered
from emosynth.quality.judges import ClassifierJudge, LLMJudge
from emosynth.records import Dialogue, Example
from emosynth.taxonomy import get_taxonomy

log = logging.getLogger(__name__)


class VerifySettings(BaseModel):
    """Where ``verify`` writes, how it filters and where it takes each judge's ceiling from."""

    model_config = ConfigDict(extra="forbid")

    json_out: Path | None = Field(
        None, description="the fidelity report; default: <data>.fidelity.json (.fidelity.firstN.json with first)"
    )
    drop_disagreeing: Path | None = Field(None, description="write a filtered copy here")
    filter_level: Literal["turn", "dialogue"] = "turn"
    filter_by: tuple[str, ...] = ()
    max_disagreement: float = Field(0.0, ge=0.0, le=1.0)
    ceiling_from: str | None = None
    ceiling_per_label: int = Field(20, ge=1)
    threshold: float = Field(0.3, gt=0.0, lt=1.0, description="examples: a score that makes a label")
    seed: int = 0
    data_root: str | None = None
    first: int | None = Field(None, ge=1, description="judge only the first N records (the LLM judge is the slow one)")

    def report_path(self, data: Path) -> Path:
        """Where the fidelity report goes (a part judged, ``first``, beside the whole file's report, not over it)."""
        return self.json_out or sidecar(data, f"fidelity.first{self.first}.json" if self.first else "fidelity.json")

    def check(self, data: Path) -> list[Dialogue] | list[Example]:
        """Fail before any model is loaded: data that cannot be read or holds no record, outputs that cannot be
        written, a copy that would replace the data or filter examples. Returns the dialogues or examples."""
        for path in (self.report_path(data), self.drop_disagreeing):
            if path is not None:
                ensure_writable(path)
        if self.drop_disagreeing is not None and self.drop_disagreeing.resolve() == data.resolve():
            raise ConfigError(
                f"--drop-disagreeing {self.drop_disagreeing} would overwrite the data; choose another path"
            )
        if self.first is not None and self.drop_disagreeing is not None:
            raise ConfigError(f"--first {self.first} judges part of {data}; a filtered copy needs all of it")
        records = read_records(data)
        if isinstance(records[0], Example) and self.drop_disagreeing is not None:
            raise ConfigError(f"{data} holds examples; --drop-disagreeing filters dialogues only")
        return records[: self.first]


def judge_cache(data: Path) -> Path:
    """The default LLM judge cache beside the data (``<data>.judge.cache.sqlite``)."""
    return sidecar(data, "judge.cache.sqlite")


Classifiers = str | Path | list[str | Path] | tuple | None  # one saved classifier, several, or none


def classifier_paths(classifier: Classifiers) -> list[str | Path]:
    """The classifier judges given, as a list."""
    return [classifier] if isinstance(classifier, str | Path) else list(classifier or ())


def make_judges(
    dialogues: list[Dialogue], classifier: Classifiers, llm: LLMBackend | None, seed: int, data: Path
) -> list[Judge]:
    """The classifier judge(s) and/or the LLM judge; warns when the LLM grades labels it wrote itself.

    The first classifier is the judge ``classifier``; each further one is named by its kind (``classifier:context``,
    ``classifier:compm``; ``classifier:<kind>:<k>`` when a kind repeats), e.g. to grade best-of-n turns chosen by
    an utterance classifier with a context model that did not choose them."""
    judges: list[Judge] = []
    for k, path in enumerate(classifier_paths(classifier)):
        judge = ClassifierJudge(str(path))
        if k:
            judge.name = f"classifier:{judge.model.kind}"
            if judge.name in {j.name for j in judges}:
                judge.name += f":{k + 1}"
        judges.append(judge)
    if llm is not None:
        judges.append(LLMJudge(llm, get_taxonomy(dialogues[0].taxonomy), seed=seed))
        if (dialogues[0].backend, dialogues[0].model) == (llm.name, llm.model_id):
            log.warning(
                "the LLM judge is the model that wrote %s (%s); it grades its own labels "
                "(use a stronger served model with --backend openai)",
                data,
                llm.model_id,
            )
    if not judges:
        raise ConfigError("no judge: give a classifier (--classifier RUN/model) and/or an LLM judge (--llm)")
    return judges


def verify(
    data: str | Path,
    settings: VerifySettings,
    classifier: Classifiers = None,
    llm: LLMBackend | None = None,
) -> dict[str, Any]:
    """Judge every turn (or example) of ``data`` and write the fidelity report (and the filtered copy, if asked);
    returns it.

    Args:
        data: a synthetic dialogue JSONL, or an example JSONL (then the classifier alone judges).
        settings: outputs, filter and ceiling settings.
        classifier: a classifier saved by ``emosynth train`` (RUN/model), or several, used as judges (examples:
            one).
        llm: a backend used as the LLM judge of dialogues (the caller opens and closes it; it may serve several
            datasets).
    """
    data = Path(data)
    records = settings.check(data)
    head = {"data": shown(data), "first": settings.first}  # first: None when every record was judged
    if isinstance(records[0], Example):
        if len(paths := classifier_paths(classifier)) > 1:
            raise ConfigError("examples are rated by one classifier (give --classifier once)")
        rated = verify_examples(records, settings, paths[0] if paths else None, llm)
        report = head | rated
    else:
        judges = make_judges(records, classifier, llm, settings.seed, data)
        report, verdicts = fidelity_report(
            records, judges, settings.ceiling_from, settings.ceiling_per_label, settings.seed, settings.data_root
        )
        report = head | {"selected_by": selected_by(records)} | report
        for entry in report["judges"].values():  # a judge grading the turns it chose proves nothing
            entry["selected_these_turns"] = _same_model(entry.get("model"), report["selected_by"])
    if settings.drop_disagreeing is not None:
        s = settings
        report["filter"] = write_filtered(
            verdicts, shown(s.drop_disagreeing), s.filter_level, s.filter_by, s.max_disagreement, source=shown(data)
        )
    write_atomic(settings.report_path(data), json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return report


def selected_by(dialogues: list[Dialogue]) -> str | None:
    """The judge that chose the turns of best-of-n dialogues (``metadata.judge.selected_by``), or None."""
    judges = {(d.metadata or {}).get("judge", {}).get("selected_by") for d in dialogues} - {None}
    return ", ".join(sorted(judges)) or None


def _same_model(model: str | None, selector: str | None) -> bool:
    """Whether the judge ``model`` is one of the ``selector`` models (a run folder counts as its model/)."""

    def model_dir(path: str) -> Path:
        p = Path(path.strip()).resolve()
        return p / "model" if (p / "model" / "emosynth.json").exists() else p

    return bool(model and selector) and model_dir(model) in {model_dir(s) for s in chooser_models(selector)}


def uses_llm(records: list[Dialogue] | list[Example], use_llm: bool | None) -> bool:
    """Whether to open the LLM judge: for dialogues unless refused (``use_llm`` False), for examples only when asked
    for (an LLM rater of 28 classes is slow and, at the embedded model's size, weak)."""
    if isinstance(records[0], Example):
        return bool(use_llm)
    return use_llm is not False


def verify_examples(
    examples: list[Example], settings: VerifySettings, classifier: str | Path | None, llm: LLMBackend | None
) -> dict[str, Any]:
    """Each rater's confirmation of the examples' labels, next to its ceiling (``example_fidelity``): the classifier
    (``ClassifierRater``) and/or the LLM (``LLMRater``, blind to the target), and with both, the two combined
    (``CombinedRater``, the rater ``generate pillars`` uses when given both; its LLM answers come from the cache)."""
    from emosynth.quality.raters import ClassifierRater, CombinedRater, LLMRater

    s = settings
    raters = [ClassifierRater(str(classifier))] if classifier is not None else []
    if llm is not None:
        raters.append(LLMRater(llm, get_taxonomy(examples[0].taxonomy), seed=s.seed))
    if not raters:
        raise ConfigError("no judge: examples are judged by a classifier (--classifier RUN/model) or the LLM (--llm)")
    if len(raters) == 2 and raters[0].taxonomy.name == raters[1].taxonomy.name:  # combined: one label set only
        raters.append(CombinedRater(list(raters), s.threshold))
    report: dict[str, Any] = {}
    for rater in raters:
        one = example_fidelity_report(
            examples, rater, s.threshold, s.ceiling_from, s.ceiling_per_label, s.seed, s.data_root
        )
        report = one | {"judges": report.get("judges", {}) | one["judges"]}
    return report


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The report as the lines ``emosynth verify`` prints: each judge's agreement, ceiling, per label; the filter."""
    if report.get("kind") == "examples":
        return example_summary_lines(report)
    lines = []
    for name, entry in report["judges"].items():
        ag, ceil = entry["agreement"], entry.get("ceiling")
        line = (
            f"{name} judge ({entry['model']}): agreement {ag['overall']} "
            f"(per-label mean {ag['macro']}) over {ag['n']} turns"
        )
        if ceil:
            line += f"; its ceiling on balanced real dev turns {ceil['overall']} (n={ceil['n']})"
        if entry.get("selected_these_turns"):
            line += "; WARNING: this judge chose these turns (best-of-n), grade with another"
        lines.append(line)
        lines.append("  per label: " + ", ".join(f"{k} {v:.2f}" for k, v in ag["per_label"].items()))
    if "filter" in report:
        f = report["filter"]
        lines.append(
            f"filtered ({f['level']}): {f['dialogues_out']} of {f['dialogues_in']} dialogues kept, "
            f"{f['turns_relabelled']} turns relabelled -> {f['output']}"
        )
    return lines
