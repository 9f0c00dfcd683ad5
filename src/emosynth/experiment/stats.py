"""Does a treatment (regime x synthetic dataset) change the score? Friedman rank-sum test over blocks.

Blocks are benchmark x model x seed; treatments are ranked within each block (1 = best score, ties
averaged), the Friedman test (scipy) asks whether the average ranks differ, and the Nemenyi post-hoc
(scikit-posthocs) says which pairs do. The critical difference (Demsar 2006) is the rank gap the
Nemenyi test needs at ``alpha``; the CD diagram draws it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

MIN_TREATMENTS = 3
MIN_BLOCKS = 3


def _finite(score: Any) -> bool:
    return score is not None and math.isfinite(score)


def score_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple], np.ndarray, list[tuple]]:
    """Treatments, complete blocks and their scores (blocks x treatments); blocks missing a treatment apart.

    A missing or non-finite score (a diverged run) leaves its block incomplete rather than ranking a NaN.
    """
    treatments = sorted({r["treatment"] for r in rows}, key=lambda t: (t != "real", t))
    by_block: dict[tuple, dict[str, float]] = defaultdict(dict)
    for r in rows:
        block = by_block[(r["benchmark"], r["model"], r["seed"])]
        if _finite(r["score"]):
            block[r["treatment"]] = r["score"]
    complete = [b for b in sorted(by_block) if all(t in by_block[b] for t in treatments)]
    incomplete = [b for b in sorted(by_block) if b not in complete]
    scores = np.array([[by_block[b][t] for t in treatments] for b in complete], dtype=float)
    return treatments, complete, scores.reshape(len(complete), len(treatments)), incomplete


def critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks for ``k`` treatments over ``n`` blocks."""
    from scipy.stats import studentized_range

    q = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n)))


def seed_means(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per benchmark x model x treatment: the mean score over its seeds (seed -1).

    Only seeds whose block is complete count, so every treatment of a benchmark x model is averaged over the
    same seeds (a treatment with a seed more would otherwise be compared on other terms).
    """
    _, complete, _, _ = score_table(rows)
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        if (r["benchmark"], r["model"], r["seed"]) in complete:
            groups[(r["benchmark"], r["model"], r["treatment"])].append(r["score"])
    return [
        {"benchmark": b, "model": m, "treatment": t, "seed": -1, "score": float(np.mean(v))}
        for (b, m, t), v in groups.items()
    ]


def friedman(rows: list[dict[str, Any]], alpha: float = 0.05, average_seeds: bool = False) -> dict[str, Any]:
    """The test over complete blocks; ``{"ok": False, "reason": ...}`` when it cannot be run meaningfully.

    Blocks are benchmark x model x seed (the issue's protocol). Seeds of one benchmark are not independent
    datasets, so that p-value is optimistic; ``average_seeds`` averages the seeds first (blocks = benchmark
    x model, as in Demsar 2006), which needs more benchmarks or models to reach 3 blocks.
    """
    if average_seeds:
        rows = seed_means(rows)
    from scipy.stats import friedmanchisquare, rankdata

    treatments, blocks, scores, incomplete = score_table(rows)
    out: dict[str, Any] = {
        "blocks_are": "benchmark x model" if average_seeds else "benchmark x model x seed",
        "treatments": treatments,
        "n_blocks": len(blocks),
        "blocks": [list(b) for b in blocks],
        "incomplete_blocks": [list(b) for b in incomplete],
        "alpha": alpha,
        "higher_is_better": True,
    }
    if len(blocks):
        ranks = np.vstack([rankdata(-s) for s in scores])
        out["average_ranks"] = dict(zip(treatments, map(float, ranks.mean(0))))
        out["mean_scores"] = dict(zip(treatments, map(float, scores.mean(0))))
    else:
        out["average_ranks"], out["mean_scores"] = {}, {}
    reason = None
    if len(treatments) < MIN_TREATMENTS:
        reason = (
            f"the Friedman test compares at least {MIN_TREATMENTS} treatments (regime x synthetic dataset); "
            f"this experiment has "
            f"{len(treatments)} ({', '.join(treatments)}). With two, compare them pairwise (e.g. a sign test)."
        )
    elif len(blocks) < MIN_BLOCKS:
        more = "benchmarks or models" if average_seeds else "seeds"
        reason = (
            f"{len(blocks)} complete blocks ({out['blocks_are']}); the test needs at least "
            f"{MIN_BLOCKS}. Add {more} or finish the missing cells."
        )
    elif np.all(scores == scores[:, :1]):
        reason = "every treatment scores the same in every block; there is nothing to rank"
    if reason:
        return out | {"ok": False, "statistic": None, "p_value": None, "reason": reason}
    stat, p = friedmanchisquare(*scores.T)
    import scikit_posthocs as sp

    nemenyi = sp.posthoc_nemenyi_friedman(scores)
    nemenyi.index = nemenyi.columns = treatments
    return out | {
        "ok": True,
        "statistic": float(stat),
        "p_value": float(p),
        "significant": bool(p < alpha),
        "critical_difference": critical_difference(len(treatments), len(blocks), alpha),
        "nemenyi_p_values": {a: {b: float(nemenyi.loc[a, b]) for b in treatments} for a in treatments},
    }


def cd_diagram(result: dict[str, Any], path) -> bool:
    """Critical-difference diagram (scikit-posthocs) saved as PNG; False when the test was not run."""
    if not result.get("ok"):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import scikit_posthocs as sp

    names = result["treatments"]
    sig = pd.DataFrame([[result["nemenyi_p_values"][a][b] for b in names] for a in names], index=names, columns=names)
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.35 * len(names)))
    sp.critical_difference_diagram(
        pd.Series(result["average_ranks"]),
        sig,
        ax=ax,
        alpha=result["alpha"],
        cd=result["critical_difference"],
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
    )
    ax.tick_params(axis="x", pad=16)  # the rank labels above the CD bar, not through it
    for text in [t for t in ax.texts if t.get_text().startswith("CD = ")]:
        text.remove()  # the library's CD label sits on the rank labels; the title gives it
    ax.set_title(
        f"Average rank (1 = best), Friedman p = {result['p_value']:.3g}; "
        f"CD = {result['critical_difference']:.2f} (bar above the axis)",
        fontsize=9,
        pad=10,
    )
    fig.savefig(path, dpi=120, bbox_inches="tight")  # long treatment names are not cut off
    plt.close(fig)
    return True


def analyse(rows: list[dict[str, Any]], alpha: float = 0.05) -> dict[str, Any]:
    """The protocol's test (seeds as blocks) with the seed-averaged test beside it (``seed_averaged``)."""
    main = friedman(rows, alpha)
    averaged = friedman(rows, alpha, average_seeds=True)
    keys = ("blocks_are", "ok", "statistic", "p_value", "n_blocks", "average_ranks", "reason")
    main["seed_averaged"] = {k: averaged.get(k) for k in keys}
    return main
