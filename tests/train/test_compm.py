import torch

from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy
from emosynth.train.args import TrainingArguments
from emosynth.train.compm import CoMPM, CoMPMConfig
from emosynth.train.items import turn_items
from emosynth.train.loop import Trainer

from .test_sequence import toy_dialogues

MELD = get_taxonomy("meld")


def test_memory_holds_only_the_current_speakers_earlier_turns(tiny_bert):
    model = CoMPM(CoMPMConfig(str(tiny_bert), list(MELD.labels), max_length=32))
    d = Dialogue(
        "x",
        [Turn("anna", "hello", "neutral"), Turn("ben", "what", "surprise"), Turn("anna", "i am so happy today", "joy")],
        "meld",
    )
    feats = model.featurize(turn_items([d], MELD))
    assert [len(f["memory"]) for f in feats] == [0, 0, 1]
    tokens = model.tokenizer.convert_ids_to_tokens(feats[2]["input_ids"])
    assert tokens[:4] == ["[CLS]", "[S0]", "hello", "[S1]"] and tokens[-2:] == ["today", "[SEP]"]
    assert sum(p.numel() for p in model.memory.parameters() if p.requires_grad) == 0
    logits = model(**model.collate(feats))
    assert logits.shape == (3, 7) and torch.isfinite(logits).all()


def test_context_is_truncated_from_the_far_end(tiny_bert):
    model = CoMPM(CoMPMConfig(str(tiny_bert), list(MELD.labels), max_length=10))
    d = Dialogue(
        "x",
        [
            Turn("anna", "hello", "neutral"),
            Turn("ben", "the weather is okay", "neutral"),
            Turn("anna", "so happy", "joy"),
        ],
        "meld",
    )
    ids = model.featurize(turn_items([d], MELD))[2]["input_ids"]
    tokens = model.tokenizer.convert_ids_to_tokens(ids)
    assert len(ids) <= 10 and "hello" not in tokens and tokens[-3:] == ["so", "happy", "[SEP]"]


def test_compm_learns_and_round_trips(tiny_bert, tmp_path):
    torch.manual_seed(0)
    model = CoMPM(CoMPMConfig(str(tiny_bert), list(MELD.labels), max_length=48))
    items = turn_items(toy_dialogues(), MELD)
    args = TrainingArguments(epochs=20, learning_rate=3e-3, batch_size=8, warmup_ratio=0.1, seed=1)
    trainer = Trainer(model, args, items, items[:18], benchmark="meld")
    trainer.train()
    assert trainer.evaluate(items)["accuracy"] >= 2 / 3  # chance is 1/3
    model.save(tmp_path / "m")
    loaded = CoMPM.load(tmp_path / "m")
    assert (Trainer(loaded, args, items).predict(items) == trainer.predict(items)).all()
