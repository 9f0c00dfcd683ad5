"""Classifiers that are one Hugging Face sequence-classification model over one token sequence:

- ``utterance``: the turn's text alone.
- ``context``: the one-sequence context model (the EmoBERTa family): earlier turns, each prefixed by its
  speaker, then the current turn with its speaker as the second segment; the far past is truncated first.

Both save as standard Hugging Face directories (plus ``emosynth.json``) and load with ``from_pretrained``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from emosynth.train.items import TurnItem

KINDS = ("utterance", "context")


class SequenceClassifier(nn.Module):
    """Args:
    backbone: a local Hugging Face encoder directory (e.g. the packaged all-MiniLM-L6-v2).
    labels: the label names, in id order.
    kind: ``utterance`` or ``context``.
    max_length: tokens per sequence.
    future: with ``context``, also append following turns after the current one.
    multi_label: one sigmoid per label (e.g. GoEmotions) instead of a softmax over labels.
    """

    def __init__(
        self,
        backbone: str | Path,
        labels: list[str],
        kind: str = "utterance",
        max_length: int = 128,
        future: bool = False,
        multi_label: bool = False,
        _model=None,
        _tokenizer=None,
    ):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind, self.labels, self.max_length, self.future = kind, list(labels), max_length, future
        self.multi_label = multi_label
        self.thresholds: list[float] | None = None  # multi-label: per-label cut-offs tuned on dev (else 0.5)
        self.tokenizer = _tokenizer or AutoTokenizer.from_pretrained(str(backbone), local_files_only=True)
        self.model = _model or AutoModelForSequenceClassification.from_pretrained(
            str(backbone),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={lab: i for i, lab in enumerate(labels)},
            problem_type="multi_label_classification" if multi_label else "single_label_classification",
            local_files_only=True,
        )

    def featurize(self, items: list[TurnItem]) -> list[dict[str, list[int]]]:
        """Token ids per item (no padding: batches are padded to their own longest sequence)."""
        if self.kind == "utterance":
            enc = self.tokenizer([i.text for i in items], truncation=True, max_length=self.max_length)
            return [{"input_ids": ids} for ids in enc["input_ids"]]
        memo: dict[str, list[int]] = {}

        def ids(speaker: str, text: str) -> list[int]:
            key = f"{speaker}: {text}"
            if key not in memo:
                memo[key] = self.tokenizer(key, add_special_tokens=False)["input_ids"]
            return memo[key]

        return [self._context_features(item, ids) for item in items]

    def _context_features(self, item: TurnItem, ids) -> dict[str, list[int]]:
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        current = ids(item.speaker, item.text)[: self.max_length // 2]
        budget = self.max_length - len(current) - 3
        around: list[int] = []
        for speaker, text in reversed(item.history):  # most recent first; stop at the first that does not fit
            turn = ids(speaker, text)
            if len(turn) > budget:
                break
            around, budget = turn + around, budget - len(turn)
        after: list[int] = []
        if self.future:
            for speaker, text in item.future:
                turn = ids(speaker, text)
                if len(turn) > budget:
                    break
                after, budget = after + turn, budget - len(turn)
        input_ids = [cls, *around, sep, *current, *after, sep]
        types = [0] * (len(around) + 2) + [1] * (len(current) + len(after) + 1)
        return {"input_ids": input_ids, "token_type_ids": types}

    def collate(self, features: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        """Pad a batch of features into tensors."""
        width = max(len(f["input_ids"]) for f in features)
        pad = self.tokenizer.pad_token_id
        batch = {
            "input_ids": torch.tensor([f["input_ids"] + [pad] * (width - len(f["input_ids"])) for f in features]),
            "attention_mask": torch.tensor(
                [[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"])) for f in features]
            ),
        }
        if "token_type_ids" in features[0]:
            batch["token_type_ids"] = torch.tensor(
                [f["token_type_ids"] + [0] * (width - len(f["token_type_ids"])) for f in features]
            )
        return batch

    def init_output_bias(self, prior) -> None:
        """Multi-label: start each label's output bias at the log-odds of its training frequency.

        With most labels absent from most texts, a zero bias makes the first thousands of steps push every
        logit down for every input; starting from the prior leaves the gradient for telling texts apart.
        """
        head = [m for m in self.model.modules() if isinstance(m, nn.Linear) and m.out_features == len(self.labels)]
        if not head or head[-1].bias is None:
            return
        p = torch.as_tensor(prior, dtype=torch.float).clamp(1e-4, 1 - 1e-4)
        with torch.no_grad():
            head[-1].bias.copy_(torch.log(p / (1 - p)))

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        """Logits per item (one per label)."""
        return self.model(**batch).logits

    def save(self, path: str | Path) -> None:
        """Save the encoder, tokenizer and head to a directory (with ``emosynth.json``)."""
        path = Path(path)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        self.save_thresholds(path)

    def save_thresholds(self, path: str | Path) -> None:
        """Write ``emosynth.json`` (kind, labels, settings and tuned thresholds) into the saved directory: all of
        ``save`` a model loaded from ``path`` needs after its thresholds were tuned."""
        meta = {
            "kind": self.kind,
            "labels": self.labels,
            "max_length": self.max_length,
            "future": self.future,
            "multi_label": self.multi_label,
            "thresholds": self.thresholds,
        }
        (Path(path) / "emosynth.json").write_text(json.dumps(meta, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> SequenceClassifier:
        """A model saved by ``save``."""
        meta = json.loads((Path(path) / "emosynth.json").read_text())
        model = cls(
            path, meta["labels"], meta["kind"], meta["max_length"], meta["future"], meta.get("multi_label", False)
        )
        model.thresholds = meta.get("thresholds")
        return model
