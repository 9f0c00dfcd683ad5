"""TODKAT: the dialogue it rebuilds from turn items, its knowledge slots, and that it learns and round-trips."""

import json
import math
from dataclasses import replace

import pytest
import torch

from emosynth.data.knowledge import read_knowledge
from emosynth.errors import ConfigError
from emosynth.records import ATOMIC_RELATIONS as RELATIONS
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy
from emosynth.train.args import TrainingArguments
from emosynth.train.items import turn_items
from emosynth.train.loop import Trainer
from emosynth.train.todkat import DECODINGS, TODKAT, TODKATConfig
from emosynth.train.todkat_inputs import SAID

from .test_sequence import toy_dialogues

MELD = get_taxonomy("meld")


@pytest.fixture
def knowledge(tmp_path):
    path = tmp_path / "knowledge.jsonl"
    rows = [
        {"text": "I am so happy today!", "relations": {"xReact": "great", "xWant": "okay", "other": "ignored"}},
        {"text": "i am so angry today", "relations": {"xReact": "awful"}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_items_share_their_dialogue_and_each_turn_gets_its_knowledge(tiny_bert, knowledge):
    model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), knowledge=str(knowledge), heads=2))
    turns = [Turn("anna", "i am so happy today", "joy"), Turn("ben", "the weather is okay", "neutral")]
    d = Dialogue("x", turns, "meld")
    features = model.featurize(turn_items([d], MELD))
    assert features[0]["dialogue"] is features[1]["dialogue"] and [f["position"] for f in features] == [0, 1]
    dialogue = features[0]["dialogue"]
    assert dialogue["labels"] == [MELD.index("joy"), MELD.index("neutral")]
    assert dialogue["knowledge"] == [["The speaker feels: great", "The speaker wants: okay"], []]  # RELATIONS order
    ids, own = dialogue["ids"][0], dialogue["own"][0]  # the topic's words: the utterance's, not its speaker's name
    words = model.tokenizer.convert_ids_to_tokens([i for i, mine in zip(ids, own) if mine])
    assert words == model.tokenizer.tokenize("i am so happy today") and len(ids) > len(words) + 3
    batch = model.collate(features)
    assert batch["knowledge"].shape == (2, 3, 32) and batch["known"].tolist() == [[False, True, True], [False] * 3]
    model.eval()
    logits = model(**batch)
    assert logits.shape == (2, 7) and torch.isfinite(logits).all()
    # one item alone still reads its whole dialogue (rebuilt from its history), and decodes the same
    alone = model(**model.collate(model.featurize(turn_items([d], MELD)[1:])))
    assert torch.allclose(alone[0], logits[1], atol=1e-5)
    # at inference the gold labels are not read: other labels, the same logits
    assert torch.equal(model(**(batch | {"gold": torch.zeros_like(batch["gold"])})), logits)
    assert model.coverage(turn_items([d], MELD)) == 0.5
    # another dialogue with the same id and as many turns (two files merged) is a dialogue of its own
    other = Dialogue("x", [Turn("cleo", "i am so angry today", "anger"), Turn("dan", "why?", "surprise")], "meld")
    both = model.featurize(turn_items([d, other], MELD))
    assert both[0]["dialogue"] is not both[2]["dialogue"] and both[2]["dialogue"]["knowledge"][0] == [
        "The speaker feels: awful"
    ]


def test_todkat_learns_with_its_topic_loss_and_round_trips(tiny_bert, knowledge, tmp_path):
    torch.manual_seed(0)
    model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), knowledge=str(knowledge), heads=2, layers=1))
    items = turn_items(toy_dialogues(), MELD)
    args = TrainingArguments(epochs=20, learning_rate=3e-3, batch_size=8, warmup_ratio=0.1, seed=1)
    trainer = Trainer(model, args, items, items[:18], benchmark="meld")
    history = trainer.train()["history"]
    for record in history:  # every epoch scores every decoding on dev and keeps the best
        assert set(record["dev_by_decoding"]) == set(DECODINGS)
        assert record["dev_score"] == max(record["dev_by_decoding"].values())
        assert record["dev_by_decoding"][record["decoding"]] == record["dev_score"]
    best = max(history, key=lambda r: r["dev_score"])  # the first best epoch, whose weights were kept
    assert model.config.decoding == best["decoding"]
    # each epoch logs the mean of each auxiliary term: the topic's reconstruction falls as it learns, and a KL near 0
    # would show a topic that collapsed
    first, last = history[0]["loss_terms"], history[-1]["loss_terms"]
    assert set(first) == {"turn_head", "topic_reconstruction", "topic_kl"} and last["topic_kl"] > 0
    assert last["topic_reconstruction"] < first["topic_reconstruction"] and last["turn_head"] < first["turn_head"]
    assert history[-1]["loss"] < history[0]["loss"] and model.aux_loss is None  # no graph kept past a step
    assert trainer.evaluate(items)["accuracy"] >= 2 / 3  # chance is 1/3
    batches = model.batches(model.featurize(items), 8, seed=3)
    assert sorted(i for b in batches for i in b) == list(range(len(items)))
    assert all(len({items[i].dialogue_id for i in b}) * 3 == len(b) for b in batches)  # whole dialogues only
    with open(knowledge, "a") as fh:  # the file grows after the model read it (a knowledge pass still running)
        fh.write(json.dumps({"text": "later", "relations": {"xReact": "new"}}) + "\n")
    model.save(tmp_path / "m")
    loaded = TODKAT.load(tmp_path / "m")
    assert (tmp_path / "m" / "knowledge.jsonl").exists() and loaded.knowledge == model.knowledge
    assert loaded.config.decoding == model.config.decoding
    assert (Trainer(loaded, args, items).predict(items) == trainer.predict(items)).all()


def test_the_unknown_decoding_reads_no_label_guess_and_greedy_does(tiny_bert, knowledge):
    torch.manual_seed(0)
    model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), knowledge=str(knowledge), heads=2, layers=1))
    batch = model.collate(model.featurize(turn_items(toy_dialogues(), MELD)))
    model.eval()
    unchanged = {}
    for decoding in DECODINGS:
        model.config.decoding = decoding
        with torch.no_grad():
            before = model(**batch)
            model.label_embedding.weight[: len(MELD.labels)] += 1.0  # what each label means to the decoder changes
            after = model(**batch)
            model.label_embedding.weight[: len(MELD.labels)] -= 1.0
        unchanged[decoding] = torch.allclose(before, after, atol=1e-5)
    assert unchanged == {"greedy": False, "unknown": True, "turn": True}
    with pytest.raises(ConfigError, match="decoding 'beam': expected one of greedy, unknown, turn"):
        TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), decoding="beam"))


def test_a_dialogue_decodes_the_same_alone_and_padded_beside_a_longer_one(tiny_bert, knowledge):
    torch.manual_seed(0)
    model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), knowledge=str(knowledge), heads=2, layers=1))
    short = Dialogue("s", [Turn("anna", "i am so happy today", "joy"), Turn("ben", "why?", "surprise")], "meld")
    longer = toy_dialogues(1)[0]  # 3 turns
    model.eval()
    for decoding in DECODINGS:
        model.config.decoding = decoding
        alone = model(**model.collate(model.featurize(turn_items([short], MELD))))
        both = model(**model.collate(model.featurize(turn_items([longer, short], MELD))))
        assert torch.allclose(alone, both[3:], atol=1e-5), decoding  # padding is never attended to


def test_in_training_a_turn_reads_the_gold_labels_before_it_only(tiny_bert, knowledge):
    model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), str(knowledge), heads=2, dropout=0.0))
    model.config.label_dropout = 0.0  # every earlier gold label is shown
    batch = model.collate(model.featurize(turn_items(toy_dialogues(1), MELD)))
    model.train()

    def logits(gold):
        torch.manual_seed(0)  # the same topic noise
        return model(**(batch | {"gold": gold})).detach()

    gold = batch["gold"]
    changed = gold.clone()
    changed[0, 1] = (gold[0, 1] + 1) % len(MELD.labels)  # turn 1's label
    before, after = logits(gold), logits(changed)
    assert torch.equal(before[:2], after[:2]) and not torch.allclose(before[2], after[2])


def test_the_topic_layer_learns_only_with_a_topic_weight_and_new_layers_learn_faster(tiny_bert, knowledge):
    items = turn_items(toy_dialogues(4), MELD)
    args = TrainingArguments(epochs=1, learning_rate=1e-3, batch_size=6, seed=1)
    for weight in (0.0, 0.1):
        torch.manual_seed(0)
        model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), str(knowledge), heads=2, topic_weight=weight))
        bag = model.bag.weight.detach().clone()
        [record] = Trainer(model, args, items).train()["history"]
        assert torch.equal(model.bag.weight, bag) == (weight == 0), weight
        assert ("topic_kl" in record["loss_terms"]) == (weight > 0)
    groups = model.parameter_groups(1e-3)
    assert [g["lr"] for g in groups] == [1e-3, 1e-2]
    assert sum(len(g["params"]) for g in groups) == sum(p.requires_grad for p in model.parameters())
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model.encoder.parameters()}
    assert set(SAID) == set(RELATIONS)  # every relation has its words for the knowledge encoder


def test_the_topic_layer_learns_the_training_turns_before_the_classifier_does(tiny_bert, knowledge):
    items = turn_items(toy_dialogues(4), MELD)

    def topic_terms(epochs: int | None) -> tuple[TODKAT, dict[str, float]]:  # None: not prepared
        torch.manual_seed(0)
        config = TODKATConfig(str(tiny_bert), list(MELD.labels), str(knowledge), heads=2)
        model = TODKAT(replace(config, topic_pretrain_epochs=epochs or 0))
        features = model.featurize(items)
        encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
        if epochs is not None:
            model.prepare(features)
        assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())  # the backbone waits
        model.train()
        torch.manual_seed(1)  # the same topic noise
        model(**model.collate(features))
        return model, model.loss_terms

    _, unprepared = topic_terms(None)
    background, started = topic_terms(0)
    _, pretrained = topic_terms(20)
    # from a zero bias a topic starts near log(vocabulary) per word; from the background, near the corpus's entropy
    assert unprepared["topic_reconstruction"] > 0.9 * math.log(len(background.tokenizer))
    assert started["topic_reconstruction"] < unprepared["topic_reconstruction"] - 0.5
    # and trained on the turns alone, the topic tells their words apart from the corpus's
    assert pretrained["topic_reconstruction"] < started["topic_reconstruction"] - 0.1
    bias, batch = background.bag.bias, background.collate(background.featurize(items))
    words = [i for ids, own in zip(batch["input_ids"].tolist(), batch["own"].tolist()) for i, o in zip(ids, own) if o]
    common = max(set(words), key=words.count)
    unseen = next(i for i in range(len(background.tokenizer)) if i not in words + background.tokenizer.all_special_ids)
    assert bias[common] > bias[unseen] and math.isclose(float(bias.exp().sum()), 1, rel_tol=1e-4)


def test_a_saved_head_that_does_not_fit_the_model_is_refused(tiny_bert, tmp_path):
    model = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), heads=2))
    model.save(tmp_path / "m")
    head = torch.load(tmp_path / "m" / "head.pt")
    del head["turn_head.weight"]  # a head saved before the per-turn head existed
    torch.save(head, tmp_path / "m" / "head.pt")
    with pytest.raises(ConfigError, match=r"head.pt does not fit this version's TODKAT \(missing: turn_head.weight"):
        TODKAT.load(tmp_path / "m")


def test_a_knowledge_file_line_that_is_not_a_record_names_its_line(tmp_path):
    path = tmp_path / "k.jsonl"
    path.write_text('{"text": "hi", "relations": {"xReact": "glad"}}\n{"text": "hi", "relations": "glad"}\n')
    with pytest.raises(ConfigError, match="k.jsonl:2: expected"):
        read_knowledge(path)
    path.write_text('["hi"]\n')
    with pytest.raises(ConfigError, match="k.jsonl:1: expected"):
        read_knowledge(path)


def test_a_knowledge_file_for_another_model_is_refused():
    from emosynth.train.regimes import RunConfig

    with pytest.raises(ConfigError, match="knowledge is read by the todkat model only, not by 'compm'"):
        RunConfig.create(benchmark="meld", model="compm", knowledge="k.jsonl")
    assert RunConfig.create(benchmark="meld", model="todkat", knowledge="k.jsonl").knowledge == "k.jsonl"


def test_relations_keep_some_knowledge_types_only_for_an_ablation(tiny_bert, knowledge):
    from emosynth.train.regimes import RunConfig

    kept = TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), str(knowledge), ["xWant"], heads=2))
    d = Dialogue(
        "x", [Turn("anna", "I am so happy today!", "joy"), Turn("ben", "i am so angry today", "anger")], "meld"
    )
    assert kept.featurize(turn_items([d], MELD))[0]["dialogue"]["knowledge"] == [["The speaker wants: okay"], []]
    assert kept.coverage(turn_items([d], MELD)) == 0.5  # the angry turn's only inference was an xReact
    with pytest.raises(ConfigError, match="TODKAT relations xFeel: expected some of xIntent"):
        TODKAT(TODKATConfig(str(tiny_bert), list(MELD.labels), relations=["xWant", "xFeel"]))
    run = RunConfig.create(benchmark="meld", model="todkat", relations=["xWant", "xIntent", "xWant"])
    assert run.relations == ["xIntent", "xWant"]  # the relations' own order, once each
    for bad, why in ((["xFeel"], "not xFeel"), ([], "not none")):
        with pytest.raises(ConfigError, match=why):
            RunConfig.create(benchmark="meld", model="todkat", relations=bad)
    with pytest.raises(ConfigError, match="relations are of TODKAT's knowledge, not read by 'compm'"):
        RunConfig.create(benchmark="meld", model="compm", relations=["xWant"])


def test_knowledge_is_found_for_the_utterance_as_punctuated_else_with_punctuation_folded(tmp_path):
    path = tmp_path / "k.jsonl"
    rows = [
        {"text": "Yeah!", "relations": {"xReact": "excited"}},
        {"text": "Yeah?", "relations": {"xReact": "doubtful"}},
        {"text": "He\u2019s   LOST it.", "relations": {"oReact": "worried"}},
        {"text": "Fine.", "relations": {}},  # asked about, nothing said
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    known = read_knowledge(path)
    # punctuation is what tells these apart: each reads its own inferences
    assert known.find("yeah !") == {"xReact": "excited"} and known.find("Yeah?") == {"xReact": "doubtful"}
    assert known.find("he's lost it.") == {"oReact": "worried"}  # case, spacing and the typographic apostrophe fold
    # wording the file does not have (an export with other punctuation): the text with punctuation folded
    assert known.find("He's lost it!") == {"oReact": "worried"} and known.find("yeah") == {"xReact": "excited"}
    assert known.find("Fine!") == {} and known.find("Something else.") == {}


def test_a_comet_file_with_beams_reads_the_first_inference_that_says_something(tmp_path):
    path = tmp_path / "comet.jsonl"
    rows = [
        {"text": "We won!", "relations": {"xReact": ["none", " proud ", "happy"], "xWant": ["none"], "oEffect": ["x"]}},
        {"text": "Go away.", "relations": {"xIntent": "none", "oReact": "hurt"}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_knowledge(path) == {"we won !": {"xReact": "proud"}, "go away .": {"oReact": "hurt"}}
