import pytest

from emosynth.errors import ConfigError, UnknownNameError
from emosynth.taxonomy import builtin_taxonomies, get_taxonomy, names_label


def test_builtin_sets_have_the_benchmark_labels_in_order():
    assert get_taxonomy("meld").labels == (
        "neutral",
        "joy",
        "surprise",
        "anger",
        "sadness",
        "disgust",
        "fear",
    )
    assert get_taxonomy("emorynlp").labels == (
        "Neutral",
        "Joyful",
        "Peaceful",
        "Powerful",
        "Scared",
        "Mad",
        "Sad",
    )
    assert get_taxonomy("iemocap").labels == ("happy", "sad", "neutral", "angry", "excited", "frustrated")
    assert len(get_taxonomy("goemotions").labels) == 28
    assert get_taxonomy("dailydialog").labels[0] == "no emotion"
    assert {"meld", "emorynlp", "iemocap", "dailydialog", "goemotions", "isear", "emocontext"} <= set(
        builtin_taxonomies()
    )


def test_numbered_symbols():
    assert get_taxonomy("meld").numbered().startswith("0: neutral, 1: joy, 2: surprise")
    assert get_taxonomy("meld").numbered("\n").splitlines()[:2] == ["0: neutral", "1: joy"]


def test_a_reply_number_names_a_label_only_when_it_is_one_of_the_numbers():
    meld = get_taxonomy("meld")
    assert meld.label_of(0) == "neutral" and meld.label_of(6) == "fear"
    assert [meld.label_of(x) for x in (-1, 7, 2.0, True, "1", None)] == [None] * 6


@pytest.mark.parametrize(
    ("label", "src", "dst", "expected"),
    [
        ("joy", "meld", "dailydialog", "happiness"),
        ("happiness", "dailydialog", "iemocap", "happy"),
        ("happy", "iemocap", "emorynlp", "Joyful"),
        ("Joyful", "emorynlp", "meld", "joy"),
        ("Mad", "emorynlp", "meld", "anger"),
        ("frustrated", "iemocap", "meld", "anger"),
        ("Peaceful", "emorynlp", "meld", None),
        ("nervousness", "goemotions", "meld", "fear"),
        ("neutral", "meld", "dailydialog", "no emotion"),
    ],
)
def test_mappings_between_sets(label, src, dst, expected):
    assert get_taxonomy(src).map_to(label, get_taxonomy(dst)) == expected


def test_unknown_label_names_label_and_expected_set():
    with pytest.raises(UnknownNameError, match=r"Unknown label 'happy' for taxonomy 'meld'; expected one of: neutral"):
        get_taxonomy("meld").check("happy")
    assert get_taxonomy("meld").check("JOY") == "joy"


def test_unknown_taxonomy_suggests_close_name():
    with pytest.raises(UnknownNameError, match="Did you mean 'meld'"):
        get_taxonomy("meldd")


def test_user_taxonomy_from_yaml(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "name: mine\nlabels:\n  - {name: calm, ekman: neutral, cue: even tone}\n  - name: thrilled\n    ekman: joy\n"
    )
    tax = get_taxonomy(f)
    assert tax.name == "mine" and tax.labels == ("calm", "thrilled")
    assert tax.cues == {"calm": "even tone"}
    assert tax.map_to("thrilled", get_taxonomy("meld")) == "joy"


def test_malformed_yaml_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nlabels:\n  - {name: calm\n  - other\n")
    with pytest.raises(ConfigError, match=r"Malformed YAML at .*bad\.yaml:\d+"):
        get_taxonomy(f)


def test_yaml_with_bad_ekman_is_rejected(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("labels: [{name: x, ekman: happyness}]\n")
    with pytest.raises(ConfigError, match="ekman 'happyness'"):
        get_taxonomy(f)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I just realized the door was open", "realization"),
        ("She is angrier than ever", "anger"),
        ("Nothing could be sadder", "sadness"),
        ("It annoys me", "annoyance"),
        ("I never cared for the caring type", "caring"),
        ("Now I'm madder than before", "mad"),
        ("Everyone was fearful", "fear"),
        ("I have never been happier", "joy"),
        ("He regrets it", "remorse"),
    ],
)
def test_an_inflected_label_word_names_its_label(text, label):
    from emosynth.text import words

    assert names_label(set(words(text)), label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Take care of yourself", "caring"),
        ("I don't care", "caring"),
        ("I hope so", "optimism"),
        ("Thanks!", "gratitude"),
    ],
)
def test_everyday_words_do_not_name_a_label(text, label):
    from emosynth.text import words

    assert not names_label(set(words(text)), label)
