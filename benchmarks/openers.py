"""Label-word leakage and each label's top opening word of synthetic ERC samples, beside the real train split (issue
14's targets: no label's top opener above twice the real share, leakage under 5 %), via ``emosynth inspect``.

    .venv/bin/python benchmarks/openers.py [--out benchmarks/results/openers_baseline.json] [MELD.jsonl ...]
"""

import argparse
import json
import time
from pathlib import Path

from machine import describe

from emosynth.quality.describe import describe_specs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {
    "meld": ["data/samples/meld_natural.jsonl", "data/samples/meld_balanced.jsonl"],
    "emorynlp": ["data/samples/emorynlp_natural.jsonl", "data/samples/emorynlp_balanced.jsonl"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "openers_baseline.json")
    parser.add_argument("--meld", nargs="*", default=SAMPLES["meld"])
    parser.add_argument("--emorynlp", nargs="*", default=SAMPLES["emorynlp"])
    args = parser.parse_args()
    corpora = []
    for benchmark, files in (("meld", args.meld), ("emorynlp", args.emorynlp)):
        for report in describe_specs(files, f"{benchmark}:train", semantic=False):
            real = report["source"] == f"{benchmark}:train"
            corpora.append(
                {
                    "name": report["name"],
                    "source": report["source"],
                    "texts": report["size"]["texts"],
                    "label_word_rate": report["leakage"]["rate"],
                    "openers": report["openers"],
                    "opener_ratio_vs_real": None if real else report["against"]["opener_ratio"],
                    "max_opener_ratio": None if real else max(report["against"]["opener_ratio"].values()),
                    "against": f"{benchmark}:train",
                }
            )
    result = {"measured": time.strftime("%Y-%m-%d"), "corpora": corpora, "machine": describe()}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for c in corpora:
        print(c["name"], round(c["label_word_rate"], 4), c["max_opener_ratio"])


if __name__ == "__main__":
    main()
