"""What best-of-n turn selection costs and buys (issue 14), measured side by side in one run: the same Natural
dialogue requests (same seed) generated with n = 1, 2, 4 ... candidates per turn, chosen by the same judge (the
class-weighted utterance classifier of ``--judge auto``; with n = 1 it only scores the turns).

Per setting (each ``--judge`` x each n): wall seconds, dialogues per hour, candidates per kept turn, the share of
kept turns the selecting judge reads as planned (its own choice: an upper bound, not fidelity), the agreement of each
``--grader`` that did not choose (a classifier trained by ``emosynth train``) and its ceiling, label-word leakage
and the largest top-opener ratio against the real train split (``emosynth inspect``). Each setting is one
``emosynth generate dialogues`` process; a setting already complete in ``runs/best_of_n/`` is read, not rerun.

    .venv/bin/python benchmarks/best_of_n.py [--taxonomy meld] [--dialogues 8] [--n 1 2 4] [--seed 7000]
        [--judge auto runs/judges/meld_context_cw/model] [--grader runs/judges/meld_context_cw/model ...]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from machine import describe

from emosynth.quality.describe import describe_specs

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "runs" / "best_of_n"


def short(model: str) -> str:
    """A classifier's run name (``runs/judges/meld_context_cw/model`` -> ``meld_context_cw``)."""
    path = Path(model)
    return path.parent.name if path.name == "model" else path.name


def generate(taxonomy: str, n: int, dialogues: int, seed: int, judge: str = "auto") -> dict:
    """One generation with ``n`` candidates per turn chosen by ``judge``; its summary and output path. A setting
    that already made all its dialogues in one go is read, not run again (so settings can be added to a run)."""
    tag = "" if judge == "auto" else "_" + "+".join(short(j) for j in judge.split(","))
    out = WORK / f"{taxonomy}_natural_s{seed}_n{n}{tag}.jsonl"
    done = out.with_suffix(".summary.json")
    if done.exists():
        summary = json.loads(done.read_text())
        if summary["already_done"] == 0 and summary["accepted"] + summary["rejected"] == dialogues:
            return summary | {"output": out}
    for part in WORK.glob(f"{out.stem}.*"):  # a killed or partial run: time it again from the start
        part.unlink()
    cmd = [sys.executable, "-m", "emosynth", "generate", "dialogues", "--taxonomy", taxonomy, "--mode", "natural"]
    cmd += ["-n", str(dialogues), "--seed", str(seed), "--judge", judge, "--best-of", str(n), "--no-progress"]
    subprocess.run([*cmd, "-o", str(out)], cwd=ROOT, check=True)
    return json.loads(done.read_text()) | {"output": out}


def graded(output: Path, grader: str) -> dict | None:
    """Agreement of a judge that did not choose the turns (``emosynth verify``) and its ceiling; None if it chose."""
    from emosynth.quality.verify import VerifySettings, verify

    report = verify(output, VerifySettings(json_out=output.with_suffix(f".{short(grader)}.fidelity.json")), [grader])
    entry = report["judges"]["classifier"]
    if entry["selected_these_turns"]:
        return None
    ag, ceiling = entry["agreement"], entry["ceiling"]
    return {
        "grader": grader,
        "agreement": ag["overall"],
        "agreement_macro": ag["macro"],
        "per_label": ag["per_label"],
        "ceiling": ceiling["overall"],
    }


def row(taxonomy: str, n: int, summary: dict) -> dict:
    real = f"{taxonomy}:train"
    report = next(r for r in describe_specs([str(summary["output"])], real, semantic=False) if r["source"] != real)
    keys = ("accepted", "rejected", "attempts", "wall_seconds", "dialogues_per_hour", "completion_tokens")
    keys += ("candidates_per_kept_turn", "selecting_judge_agreement", "selected_by", "label_counts")
    return {
        "n": n,
        **{k: summary[k] for k in keys},
        "label_word_rate": round(report["leakage"]["rate"], 4),
        "max_opener_ratio": max(report["against"]["opener_ratio"].values()),
        "opener_ratio_vs_real": report["against"]["opener_ratio"],
        "output": summary["output"].relative_to(ROOT).as_posix(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taxonomy", default="meld")
    parser.add_argument("--dialogues", type=int, default=8)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seed", type=int, default=7000)
    parser.add_argument("--judge", nargs="+", default=["auto"], help="selecting classifiers, each a setting")
    parser.add_argument("--grader", nargs="*", default=[], help="classifiers grading the settings they did not choose")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "best_of_n.json")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for judge in args.judge:
        for n in args.n:
            rows.append(row(args.taxonomy, n, generate(args.taxonomy, n, args.dialogues, args.seed, judge)))
    for r in rows:
        r["graded_by"] = [g for g in (graded(ROOT / r["output"], grader) for grader in args.grader) if g]
    base = rows[0]
    for r in rows:
        r["seconds_vs_first"] = round(r["wall_seconds"] / base["wall_seconds"], 3)
    result = {
        "taxonomy": args.taxonomy,
        "mode": "natural",
        "dialogues_per_setting": args.dialogues,
        "seed": args.seed,
        "note": "one run, settings one after another on the same machine; a setting's wall time covers its own "
        "process (model load included); selecting_judge_agreement is the choosing judge's own reading",
        "rows": rows,
        "machine": describe(),
        "measured": time.strftime("%Y-%m-%d"),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
