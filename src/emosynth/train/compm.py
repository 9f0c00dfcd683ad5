"""CoMPM (Lee & Lee, NAACL 2022): Context model + Pre-trained Memory, for emotion recognition in conversation.

- CoM: a trainable encoder reads the dialogue up to the current turn, each turn prefixed by a speaker token
  (``[S0]``, ``[S1]``, ... by order of first appearance), truncated from the far end; its first-token vector is c_t.
- PM: a frozen pre-trained encoder embeds each previous utterance of the current speaker (first-token vector);
  a GRU tracks them in order and its last state k_t is projected to the context width.
- logits = W (c_t + P k_t).

Because PM is frozen, each distinct utterance is embedded once when features are built, not on every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from transformers import AutoModel, AutoTokenizer

from emosynth.train.items import TurnItem
from emosynth.train.saved import load_parts, save_parts


@dataclass
class CoMPMConfig:
    """CoMPM's settings: the backbone, the labels, input lengths, memory size, speaker tokens, dropout."""

    backbone: str
    labels: list[str]
    max_length: int = 256
    memory_turns: int = 8
    memory_length: int = 64
    speaker_tokens: int = 8
    dropout: float = 0.1


class CoMPM(nn.Module):
    """CoMPM (Lee & Lee 2022): a context model over the dialogue so far, plus a GRU over the speaker's earlier
    turns as encoded by a frozen pre-trained memory encoder."""

    encoders = ("context", "memory")  # saved apart, each in a folder of its own (train.saved)

    def __init__(self, config: CoMPMConfig, _path: Path | None = None):
        super().__init__()
        self.config, self.labels, self.kind = config, list(config.labels), "compm"
        source = str(_path or config.backbone)
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        self.speaker_tokens = [f"[S{i}]" for i in range(config.speaker_tokens)]
        self.tokenizer.add_special_tokens({"additional_special_tokens": self.speaker_tokens})
        self.context = AutoModel.from_pretrained(str(_path / "context") if _path else source, local_files_only=True)
        self.context.resize_token_embeddings(len(self.tokenizer))
        self.memory = AutoModel.from_pretrained(str(_path / "memory") if _path else source, local_files_only=True)
        self.memory.requires_grad_(False).eval()
        width_c, width_m = self.context.config.hidden_size, self.memory.config.hidden_size
        self.gru = nn.GRU(width_m, width_m, batch_first=True)
        self.project = nn.Linear(width_m, width_c)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(width_c, len(self.labels))

    def train(self, mode: bool = True) -> CoMPM:
        """Training mode for the context model; the memory encoder stays frozen in eval mode."""
        super().train(mode)
        self.memory.eval()  # frozen: never dropout
        return self

    @torch.no_grad()
    def _embed(self, texts: list[str], batch_size: int = 64) -> dict[str, torch.Tensor]:
        """First-token vectors of the frozen memory encoder, one per distinct text."""
        unique = sorted(set(texts), key=len)
        vectors = {}
        for start in range(0, len(unique), batch_size):
            chunk = unique[start : start + batch_size]
            enc = self.tokenizer(
                chunk, truncation=True, max_length=self.config.memory_length, padding=True, return_tensors="pt"
            )
            enc.pop("token_type_ids", None)
            out = self.memory(**enc).last_hidden_state[:, 0]
            vectors.update(zip(chunk, out))
        return vectors

    def featurize(self, items: list[TurnItem]) -> list[dict]:
        """Each item's context token ids (speaker-tagged, far past cut first) and memory vectors of the speaker's
        earlier turns."""
        memories = [
            [text for speaker, text in item.history if speaker == item.speaker][-self.config.memory_turns :]
            for item in items
        ]
        vectors = self._embed([t for m in memories for t in m])
        return [
            {"input_ids": self._context_ids(item), "memory": [vectors[t] for t in m]}
            for item, m in zip(items, memories)
        ]

    def _context_ids(self, item: TurnItem) -> list[int]:
        order: dict[str, int] = {}
        turns = [*item.history, (item.speaker, item.text)]
        pieces = []
        for speaker, text in turns:
            tag = self.speaker_tokens[order.setdefault(speaker, len(order)) % len(self.speaker_tokens)]
            pieces.append(self.tokenizer(f"{tag} {text}", add_special_tokens=False)["input_ids"])
        budget = self.config.max_length - 2
        kept: list[int] = []
        for ids in reversed(pieces):  # the far past is dropped first; the current turn is always kept
            if kept and len(ids) > budget:
                break
            ids = ids[-budget:]
            kept, budget = ids + kept, budget - len(ids)
        return [self.tokenizer.cls_token_id, *kept, self.tokenizer.sep_token_id]

    def collate(self, features: list[dict]) -> dict[str, torch.Tensor]:
        """Pad a batch of features into tensors."""
        width = max(len(f["input_ids"]) for f in features)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([f["input_ids"] + [pad] * (width - len(f["input_ids"])) for f in features])
        mask = (torch.arange(width)[None, :] < torch.tensor([len(f["input_ids"]) for f in features])[:, None]).long()
        dim = self.memory.config.hidden_size
        seqs = [torch.stack(f["memory"]) if f["memory"] else torch.zeros(1, dim) for f in features]
        lengths = torch.tensor([len(f["memory"]) for f in features])
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "memory": pad_sequence(seqs, batch_first=True),
            "memory_lengths": lengths,
        }

    def forward(self, input_ids, attention_mask, memory, memory_lengths) -> torch.Tensor:
        """Logits per item: context representation plus the tracked speaker memory."""
        c = self.context(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]
        packed = pack_padded_sequence(memory, memory_lengths.clamp(min=1), batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        k = h[-1] * (memory_lengths > 0).unsqueeze(-1)  # a speaker's first turn has no memory
        return self.classifier(self.dropout(c + self.project(k)))

    def save(self, path: str | Path) -> None:
        """Save weights, config and labels to a directory."""
        save_parts(self, path)

    @classmethod
    def load(cls, path: str | Path) -> CoMPM:
        """A model saved by ``save``."""
        return load_parts(cls, CoMPMConfig, path)
