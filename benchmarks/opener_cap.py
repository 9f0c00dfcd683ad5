"""The opener cap side by side (issue 14, §2): a run with ``--opener-cap`` against the run without it, on the
dialogues both kept (the same seed gives both the same plans and the same draws, so only the chooser's rule
differs). Per run: each label's top opener beside the real train split's (the target: at most twice its share),
label fidelity by the judges (the one that did not choose is the one to read), and the cost (candidates per kept
turn, dialogues rejected among the ids both runs reached).

    .venv/bin/python benchmarks/opener_cap.py CAPPED.jsonl UNCAPPED.jsonl --against emorynlp:train \
        --classifier runs/judges/emorynlp_utterance_cw/model --classifier runs/judges/emorynlp_context_cw/model \
        --classifier runs/judges/emorynlp_compm_cw/model

Results: benchmarks/results/opener_cap.json (one entry per capped file, updated in place).
"""

import argparse
import json
import time
from pathlib import Path

from machine import describe

from emosynth.data.io import read_dialogues, sidecar, write_jsonl
from emosynth.data.paths import shown
from emosynth.quality.describe import describe_specs
from emosynth.quality.verify import VerifySettings, verify
from emosynth.synth.dialogues import DialogueSynthesizer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "opener_cap.json"
WORK = ROOT / "out" / "opener_cap"  # the paired subsets and their fidelity reports (not committed)


def run_entry(name: str, kept: list, path: Path, against: str, judges: list[str]) -> dict:
    """One run's paired dialogues: openers against the real split, fidelity by each judge, candidates per turn."""
    subset = WORK / f"{name}.jsonl"
    write_jsonl(subset, [d.to_dict() for d in kept])
    [mine, _real] = describe_specs([str(subset)], against, semantic=False)
    report = verify(subset, VerifySettings(), judges or None, None)
    candidates = [c for d in kept for c in d.metadata["judge"]["candidates"]]
    return {
        "file": shown(path),
        "dialogues_paired": len(kept),
        "turns": sum(len(d.turns) for d in kept),
        "candidates_per_kept_turn": round(sum(candidates) / len(candidates), 3),
        "label_word_rate": mine["leakage"]["rate"],
        "openers": mine["openers"],
        "opener_ratio_vs_real": mine["against"]["opener_ratio"],
        "max_opener_ratio": max(mine["against"]["opener_ratio"].values()),
        "selected_by": report.get("selected_by"),
        "fidelity": {
            n: {"model": e["model"], "agreement": e["agreement"]["overall"], "chose": e.get("selected_these_turns")}
            for n, e in report["judges"].items()
        },
    }


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("capped", type=Path)
    p.add_argument("uncapped", type=Path)
    p.add_argument("--against", required=True, help="the real train split, e.g. emorynlp:train")
    p.add_argument("--classifier", action="append", default=[], help="RUN/model of a judge (repeat)")
    args = p.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    runs = {"capped": args.capped, "uncapped": args.uncapped}
    loaded = {name: read_dialogues(path) for name, path in runs.items()}
    # compare the same plans (one seed: the same dialogue ids): the ids both runs settled (kept or rejected), and of
    # those the ones both kept
    settled = DialogueSynthesizer.done_ids(args.capped) & DialogueSynthesizer.done_ids(args.uncapped)
    kept = {name: {d.id for d in dialogues} for name, dialogues in loaded.items()}
    both = kept["capped"] & kept["uncapped"] & settled
    judges = [shown(Path(c).resolve()) for c in args.classifier]
    entry = {
        "measured": time.strftime("%Y-%m-%d"),
        "against": args.against,
        "settled_by_both": len(settled),
        "config": read_json(sidecar(args.capped, "config.json")),
        # the capped run's last invocation (written when a run ends or is interrupted)
        "capped_summary": read_json(sidecar(args.capped, "summary.json")),
    }
    for name, path in runs.items():
        paired = [d for d in loaded[name] if d.id in both]
        entry[name] = run_entry(name, paired, path, args.against, judges)
        entry[name]["rejected_among_settled"] = len(settled - kept[name])
    results = json.loads(OUT.read_text()) if OUT.exists() else {"runs": {}}
    results["runs"][shown(args.capped)] = entry
    results["machine"] = describe()
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    for name in runs:
        e = entry[name]
        print(name, e["dialogues_paired"], e["max_opener_ratio"], {n: f["agreement"] for n, f in e["fidelity"].items()})


if __name__ == "__main__":
    main()
