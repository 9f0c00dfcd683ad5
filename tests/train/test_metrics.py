import numpy as np
from sklearn.metrics import f1_score

from emosynth.train.metrics import multi_label_metrics, single_label_metrics


def test_weighted_and_macro_f1_are_sklearn_values():
    y, p = [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0]
    m = single_label_metrics(y, p, ["a", "b", "c"], "meld")
    assert m["weighted_f1"] == f1_score(y, p, average="weighted")
    assert m["confusion_matrix"][0] == [1, 1, 0] and m["per_class"]["c"]["support"] == 3


def test_dailydialog_micro_f1_leaves_out_no_emotion():
    labels = ["no emotion", "anger", "happiness"]
    y, p = [0, 0, 1, 2], [0, 0, 1, 0]
    m = single_label_metrics(y, p, labels, "dailydialog")
    # only classes 1 and 2 count: one true positive (anger), one false negative (happiness)
    assert m["micro_f1_without_neutral"] == f1_score(y, p, labels=[1, 2], average="micro") == 2 / 3


def test_emocontext_micro_f1_over_happy_sad_angry():
    labels = ["happy", "sad", "angry", "others"]
    m = single_label_metrics([0, 1, 3, 3], [0, 3, 3, 0], labels, "emocontext")
    assert m["micro_f1_happy_sad_angry"] == f1_score([0, 1, 3, 3], [0, 3, 3, 0], labels=[0, 1, 2], average="micro")


def test_multi_label_macro_f1():
    y = np.array([[1, 0], [1, 1], [0, 1]])
    p = np.array([[1, 0], [1, 0], [0, 1]])
    assert multi_label_metrics(y, p, ["x", "y"])["macro_f1"] == f1_score(y, p, average="macro")
