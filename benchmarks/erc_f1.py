"""Collect the results JSON of ERC training runs into ``benchmarks/results/erc_f1.json``.

.venv/bin/python benchmarks/erc_f1.py runs/*/results.json experiments/transfer/cells/*/*/*/*/results.json

Every run is one row (a list, one entry per run and seed). Two runs of the same setting and seed (a run
under ``runs/`` and the same cell of an experiment) are kept once, the first given. A Markdown table of
mean and standard deviation over seeds, per setting, is printed for the README. ``--append`` keeps the rows
already in the results file (runs of this checkout need not include every earlier run); with no runs given,
the table of the results file is printed as it stands.
"""

import argparse
import json
import statistics
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "erc_f1.json"
KEYS = ("benchmark", "model", "regime", "seed", "weighted_f1", "macro_f1")
SETTING = (
    "benchmark",
    "model",
    "regime",
    "synthetic",
    "class_weights",
    "epochs",
    "max_length",
    "relations",
    "train_dialogues",
)


def summarize(path: Path) -> dict:
    r = json.loads(path.read_text())
    row = {k: r[k] for k in KEYS}
    train = r["stages"]["train"]
    synthetic = r["data"].get("synthetic")
    row |= {
        "synthetic": Path(synthetic).stem if synthetic else None,
        "data": r["data"],
        "epochs": r["config"]["training"]["epochs"],
        "class_weights": r["config"]["training"]["class_weights"],
        "train_seconds": round(sum(s["train_seconds"] for s in r["stages"].values()), 1),
        "train_examples_per_s": round(train["train_examples_per_s"], 2),
        "inference_examples_per_s": round(r["test"]["inference_examples_per_s"], 2),
        "best_dev_score": train["best_dev_score"],
        "per_class_f1": {k: round(v["f1"], 4) for k, v in r["test"]["per_class"].items()},
        "run": str(path.resolve().parent.relative_to(ROOT)),
        "max_length": r["config"].get("max_length"),
        "relations": r["config"].get("relations"),  # TODKAT: the knowledge relation types read (None: all)
        "train_dialogues": r["config"].get("train_dialogues"),  # a seeded sample of the real train dialogues
        # torch threads (None: every core); fewer when trained beside an LLM job, so seconds compare within one count
        "threads": r["config"]["training"].get("threads"),
    }
    if "decoding" in r:  # TODKAT: the decoding kept, and both decodings' dev scores at the epoch kept
        kept = max(train["history"], key=lambda h: h.get("dev_score", -1.0))
        row |= {"decoding": r["decoding"], "dev_by_decoding": kept.get("dev_by_decoding")}
    return row


def setting(row: dict) -> tuple:
    """The row's values of SETTING, hashable (a list of relations becomes a tuple)."""
    return tuple(tuple(v) if isinstance(v := row.get(k), list) else v for k in SETTING)


def table(runs: list[dict]) -> str:
    """Markdown: one line per setting, mean ± sd of weighted/macro-F1 over its seeds."""
    groups: dict[tuple, list[dict]] = {}
    for row in runs:
        groups.setdefault(setting(row), []).append(row)

    def stat(rows: list[dict], key: str) -> str:
        values = [r[key] for r in rows]
        sd = f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else ""
        return f"{statistics.mean(values):.4f}{sd}"

    lines = [
        "| benchmark | model | regime | synthetic | class weights | seeds | weighted-F1 | macro-F1 | train s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, rows in sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0])):
        bench, model, regime, synthetic, weights, epochs, length, relations, dialogues = key
        model += (f" ({length} tokens)" if length else "") + (f" ({epochs} epochs)" if epochs != 2 else "")
        model += f" ({'+'.join(relations)} only)" if relations else ""
        model += f" ({dialogues} train dialogues)" if dialogues else ""
        if kept := [r["decoding"] for r in rows if r.get("decoding")]:  # TODKAT: which decoding dev chose, per seed
            model += f" (kept: {', '.join(kept)})"
        seconds = statistics.mean(r["train_seconds"] for r in rows)
        threads = sorted({r.get("threads") or "all" for r in rows}, key=str)
        lines.append(
            f"| {bench} | {model} | {regime} | {synthetic or '-'} | {'yes' if weights else 'no'} | {len(rows)} "
            f"| {stat(rows, 'weighted_f1')} | {stat(rows, 'macro_f1')} | {seconds:.0f} "
            f"({'/'.join(map(str, threads))} threads) |"
        )
    return "\n".join(lines)


def key_of(row: dict) -> tuple:
    return (*setting(row), row["seed"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="*", type=Path, help="results.json of runs or experiment cells")
    parser.add_argument(
        "--append", action="store_true", help="keep the rows already in the results file (a given run replaces its own)"
    )
    args = parser.parse_args()
    # no runs given: print the table of the results file as it stands
    runs = json.loads(OUT.read_text()) if (args.append or not args.results) and OUT.exists() else []
    given, seen = [], set()
    for path in args.results:
        row = summarize(path)
        if key_of(row) not in seen:
            seen.add(key_of(row))
            given.append(row | {"machine": describe()})
    runs = [r for r in runs if key_of(r) not in seen] + given
    if given:
        OUT.write_text(json.dumps(runs, indent=1) + "\n")
    print(table(runs))
