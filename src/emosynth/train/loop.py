"""The training loop shared by every classifier: ``Trainer(model, args, train_dataset, eval_dataset)``.

Dynamic padding, batches grouped by length, threads set to the cores, model selection on the dev split.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from statistics import mean

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from emosynth.train import inference
from emosynth.train.args import TrainingArguments
from emosynth.train.batching import length_grouped_batches
from emosynth.train.inference import multi_hot
from emosynth.train.items import TurnItem
from emosynth.train.metrics import HEADLINE

log = logging.getLogger(__name__)


def inverse_frequency_weights(labels: list[int], n_classes: int) -> torch.Tensor:
    """N / (K * n_c); a class absent from training gets weight 1."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, len(labels) / (n_classes * np.maximum(counts, 1)), 1.0)
    return torch.tensor(weights, dtype=torch.float)


def set_threads(args: TrainingArguments) -> None:
    """Torch's CPU threads: ``args.threads``, else every core."""
    torch.set_num_threads(args.threads or os.cpu_count() or 1)


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
        set_threads(args)
        self.history: list[dict] = []

    def train(self) -> dict:
        """Returns timing and the selection history; leaves the model at its best dev epoch."""
        args = self.args
        torch.manual_seed(args.seed)
        features = self.model.featurize(self.train_dataset)
        if hasattr(self.model, "prepare"):  # what a model takes from its training data before the first step
            self.model.prepare(features)
        lengths = [len(f["input_ids"]) for f in features]
        n_classes = len(self.model.labels)
        if self.multi_label:
            labels = torch.tensor(multi_hot([i.label for i in self.train_dataset], n_classes), dtype=torch.float)
            if args.soft_targets:  # BCE on the rater's scores where an example has them
                for row, item in enumerate(self.train_dataset):
                    if item.soft is not None:
                        labels[row] = torch.tensor(item.soft)
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
        # a model with layers new to its backbone may give them their own rate (TODKAT's parameter_groups)
        groups = getattr(self.model, "parameter_groups", lambda lr: [{"params": params}])(args.learning_rate)
        optimizer = torch.optim.AdamW(groups, lr=args.learning_rate, weight_decay=args.weight_decay)
        # every epoch's batches, planned first: the schedule's length is their number (a dialogue-level model such as
        # TODKAT batches whole dialogues, so it takes fewer steps than items / batch_size)
        plan = [self._batches(features, lengths, args.seed * 1000 + epoch) for epoch in range(args.epochs)]
        steps = sum(map(len, plan))
        warmup = int(steps * args.warmup_ratio)
        scheduler = get_linear_schedule_with_warmup(optimizer, warmup, steps)
        # Featurized once: for CoMPM this runs the frozen memory encoder over the dev set, the same every epoch.
        eval_features = self.model.featurize(self.eval_dataset) if self.eval_dataset else None
        best, best_state, best_choice, seconds, seen = -1.0, None, None, 0.0, 0
        for epoch in range(args.epochs):
            self.model.train()
            start, losses, terms = time.perf_counter(), [], {}
            for batch_ids in tqdm(plan[epoch], desc=f"epoch {epoch + 1}", disable=not args.progress):
                batch = self.model.collate([features[i] for i in batch_ids])
                loss = loss_fn(self.model(**batch), labels[batch_ids])
                if getattr(self.model, "aux_loss", None) is not None:  # e.g. TODKAT's topic loss
                    loss = loss + self.model.aux_loss
                    self.model.aux_loss = None  # its graph is not kept past this step
                    for name, value in getattr(self.model, "loss_terms", {}).items():
                        terms.setdefault(name, []).append(value)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                seen += len(batch_ids)
                losses.append(float(loss.detach()))
            seconds += time.perf_counter() - start
            record = {"epoch": epoch + 1, "loss": mean(losses)}  # the epoch's mean training loss
            record |= {"loss_terms": {k: round(mean(v), 4) for k, v in terms.items()}} if terms else {}
            if self.eval_dataset:
                metrics = self._dev_metrics(eval_features)
                score = metrics[HEADLINE.get(self.benchmark, "weighted_f1")]
                record["dev_score"] = score
                record |= {k: metrics[k] for k in ("decoding", "dev_by_decoding") if k in metrics}
                if score > best:
                    best, best_state = score, copy.deepcopy(self.model.state_dict())
                    best_choice = getattr(self.model, "thresholds", None), metrics.get("decoding")
            self.history.append(record)
            log.info("epoch %s", record)
        if best_state is not None:
            self.model.load_state_dict(best_state)
            if self.multi_label:
                self.model.thresholds = best_choice[0]
            if best_choice[1] is not None:
                self.model.config.decoding = best_choice[1]
        return {
            "train_seconds": seconds,
            "train_examples_per_s": seen / seconds if seconds else None,
            "history": self.history,
            "best_dev_score": best if best_state is not None else None,
        }

    def _dev_metrics(self, features: list[dict] | None) -> dict:
        """Metrics on the dev split; a multi-label model first gets the per-label thresholds with the best F1
        on it (``tune_thresholds``), so that epochs are compared at their own best cut-offs, and a model with
        several ``decodings`` (TODKAT) is left at the one with the best headline score (the first on a tie), named
        with every decoding's score in ``decoding`` and ``dev_by_decoding``."""
        decodings = getattr(self.model, "decodings", ())
        if len(decodings) < 2:
            return self._scored(features)
        headline = HEADLINE.get(self.benchmark, "weighted_f1")
        by = {}
        for decoding in decodings:
            self.model.config.decoding = decoding
            by[decoding] = self._scored(features)
        chosen = max(decodings, key=lambda d: by[d][headline])  # max keeps the first of equals
        self.model.config.decoding = chosen
        return by[chosen] | {"decoding": chosen, "dev_by_decoding": {d: m[headline] for d, m in by.items()}}

    def _scored(self, features: list[dict] | None) -> dict:
        """``_dev_metrics`` at the model's present decoding."""
        args, items = self.args, self.eval_dataset
        scores = inference.probabilities(self.model, items, args.eval_batch_size, features)
        if self.multi_label:
            self.model.thresholds = None
            if args.tune_thresholds:
                gold = multi_hot([i.label for i in items], len(self.model.labels))
                self.model.thresholds = inference.tune_thresholds(scores, gold)
        return inference.evaluate(self.model, items, self.benchmark, threshold=args.threshold, scores=scores)

    @property
    def multi_label(self) -> bool:
        """True for a model with one sigmoid per label."""
        return bool(getattr(self.model, "multi_label", False))

    def predict(self, items: list[TurnItem], features: list[dict] | None = None) -> np.ndarray:
        """``inference.predict`` with this trainer's batch size and threshold."""
        return inference.predict(self.model, items, self.args.eval_batch_size, self.args.threshold, features)

    def _batches(self, features: list[dict], lengths: list[int], seed: int) -> list[list[int]]:
        """One epoch's batches: whole dialogues for a dialogue-level model (TODKAT), else length-grouped."""
        if hasattr(self.model, "batches"):
            return self.model.batches(features, self.args.batch_size, seed)
        return length_grouped_batches(lengths, self.args.batch_size, seed)

    def evaluate(self, items: list[TurnItem], features: list[dict] | None = None) -> dict:
        """``inference.evaluate`` on ``items`` (metrics named for this trainer's benchmark)."""
        args = self.args
        return inference.evaluate(self.model, items, self.benchmark, args.eval_batch_size, args.threshold, features)
