"""The training loop shared by every classifier: ``Trainer(model, args, train_dataset, eval_dataset)``.

Dynamic padding, batches grouped by length, threads set to the cores, model selection on the dev split.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from emosynth.train.batching import length_grouped_batches, sequential_batches
from emosynth.train.items import TurnItem
from emosynth.train.metrics import HEADLINE, multi_label_metrics, single_label_metrics

log = logging.getLogger(__name__)


@dataclass
class TrainingArguments:
    epochs: int = 2
    learning_rate: float = 5e-5
    batch_size: int = 32
    eval_batch_size: int = 64
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    class_weights: bool = False
    seed: int = 0
    threads: int | None = None
    threshold: float = 0.5  # multi-label: a label is predicted when its sigmoid reaches this
    init_bias: bool = True  # multi-label: output biases start at the labels' log-odds in the training data
    progress: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def multi_hot(labels: list, n_classes: int) -> np.ndarray:
    """Rows of 0/1 from label-id tuples (a plain id counts as a one-label tuple)."""
    out = np.zeros((len(labels), n_classes), dtype=int)
    for row, ids in enumerate(labels):
        out[row, list(ids) if isinstance(ids, (tuple, list)) else [ids]] = 1
    return out


def inverse_frequency_weights(labels: list[int], n_classes: int) -> torch.Tensor:
    """N / (K * n_c); a class absent from training gets weight 1."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, len(labels) / (n_classes * np.maximum(counts, 1)), 1.0)
    return torch.tensor(weights, dtype=torch.float)


class Trainer:
    """Trains ``model`` (any classifier with ``featurize``, ``collate`` and ``forward``) on turn items.

    Args:
        model: the classifier.
        args: training settings.
        train_dataset: items to train on.
        eval_dataset: dev items for model selection (the best epoch's weights are kept), or None.
        benchmark: names the headline metric used for selection (weighted-F1 for MELD, ...).
    """

    def __init__(
        self,
        model,
        args: TrainingArguments,
        train_dataset: list[TurnItem],
        eval_dataset: list[TurnItem] | None = None,
        benchmark: str | None = None,
    ):
        self.model, self.args, self.benchmark = model, args, benchmark
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
        self.history: list[dict] = []

    def train(self) -> dict:
        """Returns timing and the selection history; leaves the model at its best dev epoch."""
        args = self.args
        torch.manual_seed(args.seed)
        features = self.model.featurize(self.train_dataset)
        lengths = [len(f["input_ids"]) for f in features]
        n_classes = len(self.model.labels)
        if self.multi_label:
            labels = torch.tensor(multi_hot([i.label for i in self.train_dataset], n_classes), dtype=torch.float)
            positives = labels.sum(0)
            pos_weight = (len(labels) - positives) / positives.clamp(min=1) if args.class_weights else None
            loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
            if args.init_bias and hasattr(self.model, "init_output_bias"):
                self.model.init_output_bias(positives / len(labels))
        else:
            labels = torch.tensor([i.label for i in self.train_dataset])
            weight = inverse_frequency_weights(labels.tolist(), n_classes) if args.class_weights else None
            loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay)
        steps = args.epochs * -(-len(features) // args.batch_size)
        warmup = int(steps * args.warmup_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / max(warmup, 1), max(0.0, (steps - s) / max(steps - warmup, 1)))
        )
        # Featurized once: for CoMPM this runs the frozen memory encoder over the dev set, the same every epoch.
        eval_features = self.model.featurize(self.eval_dataset) if self.eval_dataset else None
        best, best_state, seconds, seen = -1.0, None, 0.0, 0
        for epoch in range(args.epochs):
            self.model.train()
            start = time.perf_counter()
            batches = length_grouped_batches(lengths, args.batch_size, args.seed * 1000 + epoch)
            for batch_ids in tqdm(batches, desc=f"epoch {epoch + 1}", disable=not args.progress):
                batch = self.model.collate([features[i] for i in batch_ids])
                loss = loss_fn(self.model(**batch), labels[batch_ids])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                seen += len(batch_ids)
            seconds += time.perf_counter() - start
            record = {"epoch": epoch + 1, "loss": float(loss.detach())}
            if self.eval_dataset:
                metrics = self.evaluate(self.eval_dataset, eval_features)
                score = metrics[HEADLINE.get(self.benchmark, "weighted_f1")]
                record["dev_score"] = score
                if score > best:
                    best, best_state = score, copy.deepcopy(self.model.state_dict())
            self.history.append(record)
            log.info("epoch %s", record)
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return {
            "train_seconds": seconds,
            "train_examples_per_s": seen / seconds if seconds else None,
            "history": self.history,
            "best_dev_score": best if best_state is not None else None,
        }

    @property
    def multi_label(self) -> bool:
        return bool(getattr(self.model, "multi_label", False))

    @torch.no_grad()
    def predict(self, items: list[TurnItem], features: list[dict] | None = None) -> np.ndarray:
        """Label ids, or for a multi-label model an items x labels 0/1 matrix (sigmoid >= ``threshold``).

        ``features`` (from ``model.featurize(items)``) skips featurizing again.
        """
        self.model.eval()
        features = features if features is not None else self.model.featurize(items)
        shape = (len(items), len(self.model.labels)) if self.multi_label else (len(items),)
        out = np.zeros(shape, dtype=int)
        for batch_ids in sequential_batches([len(f["input_ids"]) for f in features], self.args.eval_batch_size):
            logits = self.model(**self.model.collate([features[i] for i in batch_ids]))
            if self.multi_label:
                out[batch_ids] = (torch.sigmoid(logits) >= self.args.threshold).int().numpy()
            else:
                out[batch_ids] = logits.argmax(-1).numpy()
        return out

    def evaluate(self, items: list[TurnItem], features: list[dict] | None = None) -> dict:
        """Flat dict of metrics (plus per-class scores and the confusion matrix) and inference speed."""
        start = time.perf_counter()
        pred = self.predict(items, features)
        seconds = time.perf_counter() - start
        if self.multi_label:
            gold = multi_hot([i.label for i in items], len(self.model.labels))
            metrics = multi_label_metrics(gold, pred, self.model.labels)
        else:
            gold = [i.label for i in items]
            metrics = single_label_metrics(gold, pred.tolist(), self.model.labels, self.benchmark)
        return metrics | {"inference_seconds": seconds, "inference_examples_per_s": len(items) / seconds}
