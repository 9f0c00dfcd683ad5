"""Label fidelity of the committed synthetic samples: agreement of their labels with blind judges.

For every dataset, `emosynth verify` re-labels each turn with (a) the LLM judge (default: the embedded
Qwen2.5-Coder-1.5B; any backend works) and (b) a class-weighted MiniLM utterance classifier trained on the
matching real benchmark (`emosynth train --class-weights`), each next to its ceiling on a label-balanced
sample of real dev turns. It also writes the fidelity-filtered copy used by the experiment, and the
report beside each dataset (`<name>.fidelity.json`). Results: benchmarks/results/label_fidelity.json.

cd benchmarks && ../.venv/bin/python label_fidelity.py ../data/samples/meld_balanced.jsonl ... \
    --classifier meld=../runs/meld_utterance_real_cw_s0/model \
    --classifier emorynlp=../runs/emorynlp_utterance_real_cw_s0/model
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "label_fidelity.json"


def verify(data: Path, classifier: str | None, llm: bool, args) -> dict:
    report = data.with_name(f"{data.stem}.fidelity.json")
    filtered = data.with_name(f"{data.stem}.filtered.jsonl")
    cmd = [
        sys.executable,
        "-m",
        "emosynth",
        "verify",
        str(data),
        "--json",
        str(report),
        "--ceiling-per-label",
        str(args.ceiling_per_label),
    ]
    cmd += ["--classifier", classifier] if classifier else []
    cmd += [] if llm else ["--no-llm"]
    if args.filter_by:
        cmd += [
            "--drop-disagreeing",
            str(filtered),
            "--filter-level",
            args.level,
            "--max-disagreement",
            str(args.max_disagreement),
            "--filter-by",
            args.filter_by,
        ]
    subprocess.run(cmd, check=True)
    return json.loads(report.read_text())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("datasets", nargs="+", type=Path)
    p.add_argument("--classifier", action="append", default=[], help="TAXONOMY=RUN/model")
    p.add_argument("--no-llm", action="store_true")
    p.add_argument("--ceiling-per-label", type=int, default=20)
    p.add_argument("--filter-by", default="classifier")
    p.add_argument("--level", default="dialogue")
    p.add_argument("--max-disagreement", type=float, default=0.5)
    args = p.parse_args()
    classifiers = dict(c.split("=", 1) for c in args.classifier)
    results = json.loads(OUT.read_text()) if OUT.exists() else {"datasets": {}}
    for data in args.datasets:
        first = json.loads(data.open().readline())
        rep = verify(data, classifiers.get(first["taxonomy"]), not args.no_llm, args)
        key = str(data.resolve().relative_to(ROOT))
        results["datasets"][key] = {
            "taxonomy": first["taxonomy"],
            "dialogues": rep["dialogues"],
            "turns": rep["turns"],
            "judges": {
                name: {
                    "model": e["model"],
                    "agreement_overall": e["agreement"]["overall"],
                    "agreement_macro": e["agreement"]["macro"],
                    "agreement_per_label": e["agreement"]["per_label"],
                    "ceiling_overall": (e.get("ceiling") or {}).get("overall"),
                    "ceiling_per_label": (e.get("ceiling") or {}).get("per_label"),
                    "ceiling_source": (e.get("ceiling") or {}).get("source"),
                    "confusion": e["agreement"]["confusion"],
                }
                for name, e in rep["judges"].items()
            },
            "filter": rep.get("filter"),
        }
        results["machine"] = describe()
        OUT.write_text(json.dumps(results, indent=1) + "\n")
        print(key, {n: j["agreement_overall"] for n, j in results["datasets"][key]["judges"].items()})


if __name__ == "__main__":
    main()
