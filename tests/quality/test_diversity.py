from emosynth.quality.diversity import distinct_n, tokens


def test_distinct_n_counts_unique_ngrams_over_all():
    assert distinct_n(["a b c", "a b d"], 2) == 3 / 4
    assert distinct_n(["a b", "a b"], 1) == 2 / 4
    assert distinct_n(["Hi!", "x"], 2) == 1.0
    assert distinct_n([], 2) == 0.0


def test_tokens_fold_case_and_split_punctuation():
    assert tokens("Don't GO!") == ["don't", "go", "!"]
