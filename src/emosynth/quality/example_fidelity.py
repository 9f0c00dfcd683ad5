"""Label fidelity of utterance-level examples (Emo Pillars): does a classifier, used as a rater, confirm the labels
an example carries?

The rater makes the labels it scores at or above its cut-offs (its own per-label thresholds when it was saved
with them, else one threshold). An example is confirmed when those include the label it was written for (its
``metadata["target"]``, else its first label); per label, the agreement is the rater's recall of the examples'
labels. Like a dialogue judge's, this agreement only means something next to the rater's ceiling on real
examples (``raters.rater_ceiling``), measured on a split its thresholds were not tuned on.
"""

from __future__ import annotations

import logging
from typing import Any

from emosynth.data.benchmarks import EXAMPLE_BENCHMARKS
from emosynth.errors import ConfigError
from emosynth.judge import Rater, labels_made
from emosynth.quality.agreement import converted
from emosynth.records import Example
from emosynth.taxonomy import Taxonomy, get_taxonomy

log = logging.getLogger(__name__)


def written_for(example: Example) -> str | None:
    """The label an example was written for: its ``metadata["target"]``, else its first label (None: no label)."""
    return example.metadata.get("target") or (example.labels[0] if example.labels else None)


def example_agreement(examples: list[Example], judged: list[set[str]], taxonomy: Taxonomy) -> dict[str, Any]:
    """How far the rater's labels (``judged``, in ``taxonomy``) confirm the examples' own.

    ``confirmed``: the fraction of examples whose target the rater makes. ``per_label``: for each label the
    examples carry, the fraction of them the rater gives it too (its recall, scikit-learn); ``macro`` is their
    mean, ``micro`` the fraction of all (example, label) pairs confirmed. Labels with no equivalent in
    ``taxonomy`` (or unknown to the example's own set) are counted apart: ``unmappable`` targets, and left out.
    """
    from sklearn.metrics import recall_score

    sets = {name: get_taxonomy(name) for name in {e.taxonomy for e in examples}}
    targets = [converted(t, sets[e.taxonomy], taxonomy) if (t := written_for(e)) else None for e in examples]
    confirmed = [t in j for t, j in zip(targets, judged) if t is not None]
    gold = [{converted(k, sets[e.taxonomy], taxonomy) for k in e.labels} - {None} for e in examples]
    labels = list(taxonomy.labels)
    present = [k for k in labels if any(k in g for g in gold)]
    result: dict[str, Any] = {
        "n": len(confirmed),
        "confirmed": round(sum(confirmed) / len(confirmed), 4) if confirmed else None,
        "confirmed_count": sum(confirmed),
        "unmappable": sum(t is None for t in targets),
        "macro": None,
        "micro": None,
        "per_label": {},
    }
    if present:
        y_true = [[int(k in g) for k in present] for g in gold]
        y_pred = [[int(k in j) for k in present] for j in judged]
        recall = recall_score(y_true, y_pred, average=None, zero_division=0)
        micro = recall_score(y_true, y_pred, average="micro", zero_division=0)
        result |= {
            "macro": round(float(recall.mean()), 4),
            "micro": round(float(micro), 4),
            "per_label": {k: round(float(r), 4) for k, r in zip(present, recall)},
        }
    return result


def ceiling_source(rater: Rater, ceiling_from: str | None) -> tuple[str | None, str]:
    """Where the rater's ceiling is measured, and why there: ``ceiling_from`` when given, else its own
    benchmark's test split when its thresholds were tuned (on dev), else its dev split (None: no benchmark)."""
    tuned = getattr(rater, "thresholds", None) is not None
    if ceiling_from:
        if tuned and ceiling_from.endswith(":dev"):
            log.warning("the classifier's thresholds were tuned on dev; its ceiling on %s reads high", ceiling_from)
        return ceiling_from, "given"
    if rater.taxonomy.name not in EXAMPLE_BENCHMARKS:
        return None, "no real benchmark with the rater's labels"
    if tuned:
        return f"{rater.taxonomy.name}:test", "test split: the classifier's thresholds were tuned on dev"
    untuned = "the classifier has no tuned thresholds" if rater.name == "classifier" else "nothing was tuned on it"
    return f"{rater.taxonomy.name}:dev", f"dev split: {untuned}"


def example_fidelity_report(
    examples: list[Example],
    rater: Rater,
    threshold: float = 0.3,
    ceiling_from: str | None = None,
    ceiling_per_label: int = 20,
    seed: int = 0,
    data_root: str | None = None,
) -> dict[str, Any]:
    """The rater's agreement with the labels of ``examples``, next to its ceiling on real examples."""
    from emosynth.quality.corpus import SPLITS, load_corpus
    from emosynth.quality.raters import rater_ceiling

    agreement = example_agreement(examples, labels_made(rater, examples, threshold), rater.taxonomy)
    tuned = getattr(rater, "thresholds", None) is not None
    entry: dict[str, Any] = {
        "agreement": agreement,
        "taxonomy": rater.taxonomy.name,
        "model": rater.identity,
        "threshold": getattr(rater, "cutoff_note", None) or ("per label, the classifier's own" if tuned else threshold),
        "ceiling": None,
    }
    source, why = ceiling_source(rater, ceiling_from)
    if source:
        real = load_corpus(source, data_root)
        if real.is_dialogue:
            raise ConfigError(f"{source} holds dialogues; a classifier of examples takes its ceiling on examples")
        ceiling = rater_ceiling(rater, real.examples, ceiling_per_label, threshold, seed)
        split = source.rpartition(":")[2]
        entry["ceiling"] = ceiling | {"source": source, "split": split if split in SPLITS else None, "why": why}
    return {"kind": "examples", "examples": len(examples), "judges": {rater.name: entry}}


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The example report as ``emosynth verify`` prints it: each rater's confirmation rate, agreement per label
    and its ceiling."""
    lines = []
    for name, entry in report["judges"].items():
        ag, ceil = entry["agreement"], entry.get("ceiling")
        rate = "-" if ag["confirmed"] is None else f"{100 * ag['confirmed']:.1f}%"
        lines.append(
            f"{name} judge ({entry['model']}): target confirmed for {ag['confirmed_count']} of {ag['n']} examples "
            f"({rate}); per-label agreement mean {ag['macro']} (micro {ag['micro']})"
        )
        if ceil:
            lines.append(
                f"  its ceiling on label-balanced real {ceil['source']} ({ceil['why']}): "
                f"macro-F1 {ceil['macro_f1']} over {ceil['examples']} examples"
            )
        recall = (ceil or {}).get("recall_per_label", {})
        cells = [
            f"{k} {v:.2f}" + (f" (ceiling {recall[k]:.2f})" if k in recall else "") for k, v in ag["per_label"].items()
        ]
        lines.append("  per label: " + ", ".join(cells))
    return lines
