from emosynth.text import distinct_n, normalise, tokens, word_ngrams, words


def test_distinct_n_counts_unique_ngrams_over_all():
    assert distinct_n(["a b c", "a b d"], 2) == 3 / 4
    assert distinct_n(["a b", "a b"], 1) == 2 / 4
    assert distinct_n(["Hi!", "x"], 2) == 1.0
    assert distinct_n([], 2) == 0.0


def test_tokens_fold_case_and_split_punctuation():
    assert tokens("Don't GO!") == ["don't", "go", "!"]


def test_words_normalise_and_ngrams_drop_punctuation():
    assert words("Don't GO, now!") == ["don't", "go", "now"]
    assert normalise("  Oh,   NO!! ") == normalise("oh no") == "oh no"
    assert normalise("?!") == ""
    assert word_ngrams("A b, c d e", 4) == {("a", "b", "c", "d"), ("b", "c", "d", "e")}
    assert word_ngrams("too short", 4) == set()
