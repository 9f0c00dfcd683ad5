"""Friedman test, Nemenyi post-hoc and critical difference on score tables with known answers."""

import math

import pytest

from emosynth.experiment.stats import analyse, cd_diagram, critical_difference, friedman


def rows(scores_by_treatment, benchmarks=("meld",), seeds=range(6)):
    out = []
    for b in benchmarks:
        for s in seeds:
            for t, f in scores_by_treatment.items():
                out.append({"benchmark": b, "model": "utterance", "seed": s, "treatment": t, "score": f(s)})
    return out


def test_a_consistent_order_gives_the_textbook_statistic(tmp_path):
    table = rows(
        {"real": lambda s: 0.50 + s / 100, "synthetic->real:a": lambda s: 0.60 + s / 100, "mixed:a": lambda s: 0.40}
    )
    result = friedman(table)
    assert result["ok"] and result["n_blocks"] == 6
    assert result["average_ranks"] == {"real": 2.0, "mixed:a": 3.0, "synthetic->real:a": 1.0}
    # chi2 = 12N/(k(k+1)) * sum(R_j^2) - 3N(k+1) = 6 * (1 + 4 + 9) - 72 = 12; p = exp(-12/2)
    assert result["statistic"] == pytest.approx(12.0) and result["p_value"] == pytest.approx(math.exp(-6))
    assert result["significant"] and result["treatments"][0] == "real"
    # Demsar 2006: q_0.05 for k=3 is 2.343
    assert result["critical_difference"] == pytest.approx(2.343 * math.sqrt(3 * 4 / 36), abs=2e-3)
    nemenyi = result["nemenyi_p_values"]
    assert nemenyi["synthetic->real:a"]["mixed:a"] < 0.05 < nemenyi["real"]["mixed:a"]
    assert cd_diagram(result, tmp_path / "cd.png") and (tmp_path / "cd.png").read_bytes()[:4] == b"\x89PNG"


def test_two_regimes_or_too_few_blocks_say_so_instead_of_a_p_value(tmp_path):
    two = friedman(rows({"real": lambda s: 0.5, "synthetic->real:a": lambda s: 0.6}))
    assert not two["ok"] and two["p_value"] is None and "at least 3 treatments" in two["reason"]
    assert two["average_ranks"] == {"real": 2.0, "synthetic->real:a": 1.0}
    few = friedman(rows({"a": lambda s: s, "b": lambda s: 1, "c": lambda s: 2}, seeds=range(2)))
    assert not few["ok"] and "2 complete blocks" in few["reason"]
    assert not cd_diagram(few, tmp_path / "none.png") and not (tmp_path / "none.png").exists()


def test_blocks_missing_a_treatment_are_left_out_and_listed():
    table = rows({"a": lambda s: s, "b": lambda s: 10, "c": lambda s: 20}, seeds=range(4))
    table = [r for r in table if not (r["seed"] == 3 and r["treatment"] == "c")]
    result = friedman(table)
    assert result["n_blocks"] == 3 and result["incomplete_blocks"] == [["meld", "utterance", 3]]


def test_ties_share_their_rank():
    result = friedman(rows({"a": lambda s: 0.5, "b": lambda s: 0.5, "c": lambda s: 0.4}))
    assert result["average_ranks"] == {"a": 1.5, "b": 1.5, "c": 3.0}
    assert critical_difference(3, 6) == pytest.approx(result["critical_difference"])


def test_seed_averaged_blocks_need_more_benchmarks_and_say_so():
    table = rows({"a": lambda s: 0.5 + s / 100, "b": lambda s: 0.6, "c": lambda s: 0.4})
    result = friedman(table, average_seeds=True)
    assert result["blocks_are"] == "benchmark x model" and result["n_blocks"] == 1 and not result["ok"]
    many = rows({"a": lambda s: 0.5, "b": lambda s: 0.6, "c": lambda s: 0.4}, benchmarks=("m", "e", "i", "d"))
    assert friedman(many, average_seeds=True)["n_blocks"] == 4
    both = analyse(table)
    assert both["ok"] and both["seed_averaged"]["n_blocks"] == 1 and both["seed_averaged"]["reason"]


def test_a_diverged_run_leaves_its_block_out_instead_of_ranking_nan():
    table = rows({"a": lambda s: 0.5, "b": lambda s: 0.6, "c": lambda s: 0.4}, seeds=range(4))
    table[0]["score"], table[4]["score"] = float("nan"), None  # seed 0 of a, seed 1 of b
    result = friedman(table)
    assert result["n_blocks"] == 2 and result["incomplete_blocks"] == [
        ["meld", "utterance", 0],
        ["meld", "utterance", 1],
    ]
    assert not result["ok"] and result["p_value"] is None


def test_seed_averaging_uses_the_same_seeds_for_every_treatment():
    # c has a third seed with a high score that a and b never ran: it must not lift c's average
    table = rows({"a": lambda s: 0.5, "b": lambda s: 0.6, "c": lambda s: 0.4}, benchmarks=("m", "e", "i"), seeds=(0, 1))
    table += [{"benchmark": b, "model": "utterance", "seed": 2, "treatment": "c", "score": 0.99} for b in "mei"]
    result = friedman(table, average_seeds=True)
    assert result["n_blocks"] == 3 and result["average_ranks"] == {"a": 2.0, "b": 1.0, "c": 3.0}
    assert result["mean_scores"]["c"] == pytest.approx(0.4)
