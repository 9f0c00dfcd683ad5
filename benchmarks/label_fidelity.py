"""Label fidelity of the committed synthetic samples: agreement of their labels with blind judges.

For every dataset, the judges of `emosynth verify` re-label each turn: (a) the LLM judge (default: the
embedded Qwen2.5-Coder-1.5B; `--backend openai --base-url ...` for a served model) and (b) a class-weighted
MiniLM utterance classifier trained on the matching real benchmark (`emosynth train --class-weights`), each
next to its ceiling on a label-balanced sample of real dev turns. It also writes the fidelity-filtered copy
used by the experiment and the report beside each dataset (`<name>.fidelity.json`).
Results: benchmarks/results/label_fidelity.json (one entry per dataset, updated in place).

.venv/bin/python benchmarks/label_fidelity.py data/samples/meld_balanced.jsonl ... \
    --classifier meld=runs/meld_utterance_real_cw_s0/model \
    --classifier emorynlp=runs/emorynlp_utterance_real_cw_s0/model

A taxonomy may take several classifiers (repeat --classifier): the first is the judge ``classifier``, the others are
named by their kind (``classifier:context``). ``--first N`` judges the first N dialogues only (for the slow LLM
judge; the entries of judges not run this time stay), and each judge's entry says how many dialogues and turns it
judged and in how many seconds (not counting its ceiling). For best-of-n samples the entry names the judge that
chose the turns (``selected_by``) and flags each judge that is that model (``selected_these_turns``): its agreement
is its own choice, so fidelity is read from the others.
"""

import argparse
import json
import os
from pathlib import Path

from machine import describe

from emosynth.data.io import read_records
from emosynth.data.paths import shown
from emosynth.llm.options import backend_options, open_backend
from emosynth.quality.verify import VerifySettings, verify

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "label_fidelity.json"


def settings_for(data: Path, args) -> VerifySettings:
    """`emosynth verify` settings of one dataset: the report beside it (verify's default), the filtered copy as
    X.filtered.jsonl."""
    filtered = data.with_name(f"{data.stem}.filtered.jsonl") if args.filter_by and not args.first else None
    return VerifySettings(
        drop_disagreeing=filtered,
        filter_level=args.level,
        filter_by=tuple(args.filter_by.split(",")) if args.filter_by else (),
        max_disagreement=args.max_disagreement,
        ceiling_per_label=args.ceiling_per_label,
        first=args.first,
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("datasets", nargs="+", type=Path)
    p.add_argument("--classifier", action="append", default=[], help="TAXONOMY=RUN/model")
    p.add_argument("--no-llm", dest="llm", action="store_false")
    p.add_argument("--backend", default="llamacpp")
    p.add_argument("--model", default=None)
    p.add_argument("--base-url", default=None)
    p.add_argument("--n-threads", type=int, default=None, help="llamacpp: threads (1 beside another job)")
    p.add_argument("--ceiling-per-label", type=int, default=20)
    p.add_argument("--filter-by", default="classifier", help="judges that must disagree, comma-separated")
    p.add_argument("--level", default="dialogue")
    p.add_argument("--max-disagreement", type=float, default=0.5)
    p.add_argument("--first", type=int, default=None, help="judge the first N dialogues only (no filtered copy)")
    p.add_argument("--output", type=Path, default=OUT)
    p.add_argument("--cache", type=Path, default=ROOT / "out" / "cache" / "judge.sqlite", help="LLM judge cache")
    args = p.parse_args()
    classifiers: dict[str, list[str]] = {}
    for tax, path in (c.split("=", 1) for c in args.classifier):
        classifiers.setdefault(tax, []).append(str(Path(path).resolve()))
    args.output = args.output.resolve()
    datasets = [d.resolve() for d in args.datasets]
    os.chdir(ROOT)  # paths in the results are recorded from the repository root
    results = json.loads(args.output.read_text()) if args.output.exists() else {"datasets": {}}
    # one LLM judge and one cache for every dataset: ceilings on the same dev turns are asked once
    given = {"model": args.model, "base_url": args.base_url, "n_threads": args.n_threads}
    options = backend_options(args.backend, **given) if args.llm else None
    with open_backend(options, args.cache) as backend:
        for data in datasets:
            record(results, data, classifiers, backend, args)


def record(results: dict, data: Path, classifiers: dict[str, list[str]], backend, args) -> None:
    """Verify one dataset and update its entry in the results file."""
    records = read_records(data)  # the whole file's counts, whatever --first judges
    taxonomy = records[0].taxonomy
    judges = [shown(Path(c)) for c in classifiers.get(taxonomy, [])]
    rep = verify(shown(data), settings_for(data, args), judges, backend)
    key = shown(data)
    previous = results["datasets"].get(key, {})
    results["datasets"][key] = {
        "taxonomy": taxonomy,
        "dialogues": len(records),
        "turns": sum(len(d.turns) for d in records),
        "selected_by": rep.get("selected_by"),
        "judges": previous.get("judges", {})  # a judge not run this time keeps its earlier entry
        | {
            name: {
                "model": e["model"],
                "dialogues_judged": rep["dialogues"],  # all, or the first --first of them
                "turns_judged": rep["turns"],
                "seconds": e.get("seconds"),  # judging those turns (not its ceiling)
                "agreement_overall": e["agreement"]["overall"],
                "agreement_macro": e["agreement"]["macro"],
                "agreement_per_label": e["agreement"]["per_label"],
                "ceiling_overall": (e.get("ceiling") or {}).get("overall"),
                "ceiling_per_label": (e.get("ceiling") or {}).get("per_label"),
                "ceiling_source": (e.get("ceiling") or {}).get("source"),
                "confusion": e["agreement"]["confusion"],
                "selected_these_turns": e.get("selected_these_turns", False),
            }
            for name, e in rep["judges"].items()
        },
        "filter": rep.get("filter") or previous.get("filter"),  # a run with --first leaves the copy as it was
    }
    results["machine"] = describe()
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    print(key, {n: j["agreement_overall"] for n, j in results["datasets"][key]["judges"].items()})


if __name__ == "__main__":
    main()
