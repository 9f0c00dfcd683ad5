"""Training and inference throughput of our loop against a plain Hugging Face ``Trainer`` with fixed padding
to 128 tokens, on the same MELD utterances, the same MiniLM backbone and the same number of steps.

    .venv/bin/python benchmarks/train_speed.py [--n 2048]
"""

import argparse
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from machine import describe
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

from emosynth.data.meld import read_meld
from emosynth.taxonomy import get_taxonomy
from emosynth.train import loop
from emosynth.train.items import turn_items
from emosynth.train.models import build_model, default_backbone

ROOT = Path(__file__).resolve().parents[1]


class Fixed(torch.utils.data.Dataset):
    def __init__(self, enc, labels):
        self.enc, self.labels = enc, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {
            "input_ids": self.enc["input_ids"][i],
            "attention_mask": self.enc["attention_mask"][i],
            "labels": self.labels[i],
        }


def hf_trainer(train, dev, labels, seed, tmp):
    backbone = default_backbone()
    tok = AutoTokenizer.from_pretrained(backbone)
    model = AutoModelForSequenceClassification.from_pretrained(backbone, num_labels=len(labels))

    def data(items):
        enc = tok([i.text for i in items], padding="max_length", truncation=True, max_length=128)
        return Fixed(enc, [i.label for i in items])

    args = TrainingArguments(
        output_dir=tmp,
        per_device_train_batch_size=32,
        per_device_eval_batch_size=64,
        num_train_epochs=1,
        learning_rate=5e-5,
        seed=seed,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data(train))
    start = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = trainer.predict(data(dev)).predictions.argmax(-1)
    infer_s = time.perf_counter() - start
    from emosynth.train.metrics import single_label_metrics

    f1 = single_label_metrics([i.label for i in dev], pred.tolist(), labels, "meld")["weighted_f1"]
    return {
        "train_examples_per_s": len(train) / train_s,
        "inference_examples_per_s": len(dev) / infer_s,
        "dev_weighted_f1": f1,
    }


def ours(train, dev, labels, seed):
    model = build_model("utterance", labels, max_length=128)
    args = loop.TrainingArguments(epochs=1, batch_size=32, learning_rate=5e-5, seed=seed)
    trainer = loop.Trainer(model, args, train, None, "meld")
    info = trainer.train()
    metrics = trainer.evaluate(dev)
    return {
        "train_examples_per_s": info["train_examples_per_s"],
        "inference_examples_per_s": metrics["inference_examples_per_s"],
        "dev_weighted_f1": metrics["weighted_f1"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2048, help="training utterances (a seeded sample of MELD train)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "train_speed.json")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    tax = get_taxonomy("meld")
    train = random.Random(args.seed).sample(turn_items(read_meld("train"), tax), args.n)
    dev = turn_items(read_meld("dev"), tax)
    labels = list(tax.labels)
    np.random.seed(args.seed)
    a = ours(train, dev, labels, args.seed)
    b = hf_trainer(train, dev, labels, args.seed, str(ROOT / "out" / "hf_trainer_tmp"))
    result = {
        "ours_train_examples_per_s": round(a["train_examples_per_s"], 2),
        "trainer_train_examples_per_s": round(b["train_examples_per_s"], 2),
        "ratio": round(a["train_examples_per_s"] / b["train_examples_per_s"], 3),
        "ours_inference_examples_per_s": round(a["inference_examples_per_s"], 2),
        "trainer_inference_examples_per_s": round(b["inference_examples_per_s"], 2),
        "ours_dev_weighted_f1": round(a["dev_weighted_f1"], 4),
        "trainer_dev_weighted_f1": round(b["dev_weighted_f1"], 4),
        "setup": f"MiniLM-L6 utterance classifier, {args.n} MELD train utterances, 1 epoch, batch 32, lr 5e-5; "
        "ours: dynamic padding + length-grouped batches (max 128); Trainer: padding to 128",
        "machine": describe(),
        "measured": time.strftime("%Y-%m-%d"),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
