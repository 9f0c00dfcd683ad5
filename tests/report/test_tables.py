"""The side-by-side statistics table that `inspect` prints and the report embeds."""

from emosynth.report.tables import format_table, table_rows


def report(name, neutral, joy, **extra):
    return {
        "name": name,
        "size": {"dialogues": 2, "texts": 5},
        "label_distribution": {"neutral": neutral, "joy": joy},
        "distinct_1": 0.5,
        "distinct_2": 0.75,
        "self_bleu": None,
        "near_duplicate_rate": 0.0,
        "verbatim_repeat_rate": float("nan"),
        "leakage": {"rate": 0.125},
        **extra,
    }


def test_rows_hold_one_cell_per_corpus_with_missing_values_as_dashes():
    rows = dict(table_rows([report("syn", 0.2, 0.8), report("real", 1.0, 0.0, against={"js_divergence": 0.3})]))
    assert rows["label joy"] == ["80.0%", "0.0%"]
    assert rows["JS divergence vs real"] == ["-", "0.300"]
    assert rows["self-BLEU (lower = more diverse)"] == ["-", "-"]
    assert rows["verbatim repeats in dialogue"] == ["-", "-"]  # NaN is not a number to show
    assert rows["label word in text"] == ["12.5%", "12.5%"]
    assert "semantic diversity joy" not in rows  # no corpus has it


def test_the_text_table_aligns_columns_under_the_corpus_names():
    lines = format_table([report("synthetic", 0.2, 0.8), report("r", 1.0, 0.0)]).splitlines()
    assert lines[0].split() == ["synthetic", "r"]
    assert len({len(line) for line in lines}) == 1  # every row padded to the same width
    assert lines[1].split()[-2:] == ["2", "2"] and lines[1].startswith("dialogues")
