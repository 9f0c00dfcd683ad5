"""TODKAT (Zhu, Pergola, Gui, Zhou, He, ACL 2021): a Topic-Driven and Knowledge-Aware Transformer for dialogue
emotion detection, built on any local encoder (the packaged MiniLM by default; the paper used RoBERTa-large).

- Utterances: the backbone (fine-tuned) reads ``speaker: text``; its mean-pooled vector is h_t.
- Topic layer: a VAE over h_t (the paper puts its topic layer inside the language model; here it sits on the pooled
  vector). A mean and a log-variance give the latent topic z_t (``topics`` wide), which must reconstruct the
  utterance's bag of words (without the speaker's name) over the backbone's vocabulary; reconstruction plus KL per
  word is the topic loss, added to the classification loss with weight ``topic_weight`` (the paper pre-trains its
  topic layer on the dialogue data; here it trains with the classifier).
- Knowledge: commonsense inferences per turn in the ATOMIC relation types (``records.ATOMIC_RELATIONS``), read
  from a knowledge file (``emosynth knowledge`` writes one with the LLM backends; an ATOMIC/COMET export in the
  same JSONL format works the same), embedded once by a frozen copy of the backbone. Attention with [h_t; z_t] as
  the query picks among them; a learned empty slot stands in for a turn without knowledge. ``relations`` keeps some
  types only (an ablation: without xReact/oReact, the LLM's guesses of the emotion, what do the others add?).
- Dialogue: a transformer encoder over [h_t; z_t; k_t] for every turn of the dialogue (the whole dialogue, as in the
  paper), and a transformer decoder that predicts the label sequence: teacher-forced on the gold labels (some
  hidden as "unknown") while training; at inference either greedy (as in the paper) or with every previous label
  "unknown" (no error chaining). A per-turn head on the dialogue encoder (the original code's classifier, which has
  no decoder) trains beside it (its cross-entropy is part of ``aux_loss``) and is the third way to label
  (``turn``); the trainer keeps the one with the best dev score, compared every epoch.
- The layers new to the backbone start small (embeddings at std 0.02, the turn sequence layer-normed) and learn
  ``head_lr_scale`` times faster than the backbone (``parameter_groups``): at the backbone's rate they barely moved
  in 2 epochs (EmoryNLP dev 0.27 after 2 epochs, 0.34 after 4, before this).

Whole dialogues go into a batch together (``todkat_inputs``): each turn of a dialogue is encoded once per batch, and
an item (one turn) is read out of its dialogue's sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from transformers import AutoModel, AutoTokenizer

from emosynth.data.io import write_jsonl
from emosynth.data.knowledge import Knowledge, read_knowledge
from emosynth.errors import ConfigError
from emosynth.records import ATOMIC_RELATIONS as RELATIONS
from emosynth.train.saved import load_parts, save_parts
from emosynth.train.todkat_inputs import DialogueInputs


@dataclass
class TODKATConfig:
    """TODKAT's settings: backbone, labels, knowledge file, utterance length, topic and dialogue-transformer sizes."""

    backbone: str
    labels: list[str]
    knowledge: str | None = None
    relations: list[str] | None = None  # the relation types read (None: all of ``RELATIONS``)
    max_length: int = 64
    topics: int = 16
    layers: int = 2
    heads: int = 4
    dropout: float = 0.1
    topic_weight: float = 0.1
    max_turns: int = 128  # the longest dialogue it reads (the turn positions it learns); IEMOCAP's run past 100
    label_dropout: float = 0.3  # training: a gold previous label is replaced by "unknown" this often
    decoding: str = "greedy"  # inference (``DECODINGS``); the trainer keeps the one with the best dev score
    head_lr_scale: float = 10.0  # the layers new to the backbone learn this many times its rate
    topic_pretrain_epochs: int = 20  # the topic layer alone on the training turns first (``prepare``); 0: none


# the settings that are not RunConfig's (code defaults): recorded with each run, so that an experiment's cells trained
# before one of them changed count as stale
ARCHITECTURE = (
    "topics",
    "layers",
    "heads",
    "dropout",
    "topic_weight",
    "max_turns",
    "label_dropout",
    "head_lr_scale",
    "topic_pretrain_epochs",
)


def architecture(config: TODKATConfig | None = None) -> dict[str, float | int]:
    """The ``ARCHITECTURE`` settings of ``config`` (of a default one: what a run builds now)."""
    config = config or TODKATConfig("", [])
    return {name: getattr(config, name) for name in ARCHITECTURE}


# what each word of the vocabulary counts as besides its count in the training turns, for the topic decoder's
# background (TODKAT.prepare): 30K words at 1 each would outweigh the ~20K words of 200 dialogues
BACKGROUND_PSEUDO_COUNT = 0.01
TOPIC_PRETRAIN_LR = 1e-3  # the topic layer's own training before the classifier's (TODKAT.prepare)

# each label after the model's own earlier ones | every previous one "unknown" | the per-turn head, no decoder
DECODINGS = ("greedy", "unknown", "turn")


class TODKAT(DialogueInputs, nn.Module):
    """Topic-driven, knowledge-aware transformer encoder-decoder over a dialogue's turns."""

    decodings = DECODINGS  # the trainer scores each on dev and keeps the best
    encoders = ("encoder", "knower")  # saved apart, each in a folder of its own (train.saved)

    def __init__(self, config: TODKATConfig, _path: Path | None = None):
        super().__init__()
        self.config, self.labels, self.kind = config, list(config.labels), "todkat"
        if config.decoding not in DECODINGS:
            raise ConfigError(f"TODKAT decoding '{config.decoding}': expected one of {', '.join(DECODINGS)}")
        if unknown := sorted(set(config.relations or ()) - set(RELATIONS)):
            raise ConfigError(f"TODKAT relations {', '.join(unknown)}: expected some of {', '.join(RELATIONS)}")
        source = str(_path or config.backbone)
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        if not self.tokenizer.is_fast:  # the topic's words are told from the speaker's name by character offsets
            raise ConfigError(f"{source}: TODKAT needs a fast tokenizer (a tokenizer.json beside the model)")
        self.encoder = AutoModel.from_pretrained(str(_path / "encoder") if _path else source, local_files_only=True)
        self.knower = AutoModel.from_pretrained(str(_path / "knower") if _path else source, local_files_only=True)
        self.knower.requires_grad_(False).eval()
        d, dk, k = self.encoder.config.hidden_size, self.knower.config.hidden_size, config.topics
        n = len(self.labels)
        self.mu, self.logvar = nn.Linear(d, k), nn.Linear(d, k)
        self.bag = nn.Linear(k, len(self.tokenizer))
        self.query = nn.Linear(d + k, dk)
        self.empty = nn.Parameter(torch.zeros(dk))  # the knowledge slot of a turn that has none
        self.fuse = nn.Linear(d + k + dk, d)
        self.position = nn.Embedding(config.max_turns, d)
        self.label_embedding = nn.Embedding(n + 2, d)  # the labels, then BOS, then "unknown" (a turn not labelled)
        for table in (self.position, self.label_embedding):  # at N(0, 1) they would drown the turns' vectors
            nn.init.normal_(table.weight, std=0.02)
        self.norm = nn.LayerNorm(d)
        block = dict(d_model=d, nhead=config.heads, dim_feedforward=4 * d, dropout=config.dropout, batch_first=True)
        self.dialogue_encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(**block), config.layers, enable_nested_tensor=False
        )
        self.dialogue_decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**block), config.layers)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(d, n)
        self.turn_head = nn.Linear(d, n)
        path = _path / "knowledge.jsonl" if _path and (_path / "knowledge.jsonl").exists() else config.knowledge
        self.knowledge = read_knowledge(path) if path else Knowledge()
        self._vectors: dict[str, torch.Tensor] = {}
        self.aux_loss: torch.Tensor | None = None  # the topic and turn-head losses of the last training pass
        self.loss_terms: dict[str, float] = {}  # the same, term by term, as numbers (the trainer logs their means)

    def architecture(self) -> dict[str, float | int]:
        """The settings it was built with that a run's config does not name (``ARCHITECTURE``)."""
        return architecture(self.config)

    def train(self, mode: bool = True) -> TODKAT:
        """Training mode; the knowledge encoder stays frozen in eval mode."""
        super().train(mode)
        self.knower.eval()
        return self

    def parameter_groups(self, lr: float) -> list[dict]:
        """The optimizer's groups: the backbone at ``lr``, the layers new to it at ``head_lr_scale`` times that."""
        backbone = {id(p) for p in self.encoder.parameters()}
        new = [p for p in self.parameters() if p.requires_grad and id(p) not in backbone]
        return [
            {"params": [p for p in self.encoder.parameters() if p.requires_grad], "lr": lr},
            {"params": new, "lr": lr * self.config.head_lr_scale},
        ]

    def forward(self, input_ids, attention_mask, own, knowledge, known, lengths, gold, select) -> torch.Tensor:
        """Logits of the selected turns; in training mode also sets ``aux_loss`` (the turn head's loss and the
        weighted topic loss)."""
        h = self._pooled(input_ids, attention_mask)
        z, mu, logvar = self._topic(h, sample=self.training)
        query = self.query(torch.cat([h, z], -1))
        knowledge = knowledge.clone()
        knowledge[:, 0] = self.empty
        scores = (knowledge @ query.unsqueeze(-1)).squeeze(-1) / math.sqrt(query.shape[-1])
        known = known.clone()
        known[:, 0] = True
        weights = torch.softmax(scores.masked_fill(~known, float("-inf")), -1)
        k = (weights.unsqueeze(-1) * knowledge).sum(1)
        u = self.dropout(self.fuse(torch.cat([h, z, k], -1)))
        top = int(lengths.max())
        steps = torch.arange(top)
        padding = steps[None, :] >= lengths[:, None]
        sequence = self.norm(pad_sequence(torch.split(u, lengths.tolist()), batch_first=True) + self.position(steps))
        memory = self.dialogue_encoder(sequence, src_key_padding_mask=padding)
        per_turn = self.turn_head(self.dropout(memory))
        bos = len(self.labels)
        if self.training:  # teacher forcing: the gold label before each turn ("unknown" where a turn has none)
            # the turn head learns on every labelled turn (its loss unweighted by class); the topic loss is left out
            # at weight 0, so that its layer gets no gradient (nor weight decay)
            self.aux_loss = nn.functional.cross_entropy(per_turn.flatten(0, 1), gold.flatten(), ignore_index=-1)
            self.loss_terms = {"turn_head": float(self.aux_loss.detach())}
            if self.config.topic_weight:  # a KL near 0 is a collapsed topic: it then tells the model nothing
                reconstruction, kl = self._topic_loss(input_ids, own, z, mu, logvar)
                self.aux_loss = self.aux_loss + self.config.topic_weight * (reconstruction + kl)
                self.loss_terms |= {
                    "topic_reconstruction": float(reconstruction.detach()),
                    "topic_kl": float(kl.detach()),
                }
            previous = torch.cat([torch.full_like(gold[:, :1], bos), gold[:, :-1]], 1)
            # "unknown" in place of some gold labels: the decoder cannot just carry the last label on, which is all
            # it did at test time, where its own first guess (neutral) then ran through the whole dialogue
            hidden = torch.rand(previous.shape) < self.config.label_dropout
            hidden[:, 0] = False
            logits = self._decode(previous.masked_fill((previous < 0) | hidden, bos + 1), memory, padding)
        elif self.config.decoding == "turn":
            logits = per_turn
        elif self.config.decoding == "unknown":  # one pass: no guess of one turn is read by the next
            previous = torch.full((len(lengths), top), bos + 1)
            previous[:, 0] = bos
            logits = self._decode(previous, memory, padding)
        else:  # greedy: each turn's label is decoded after the ones before it (its errors can chain)
            previous = torch.full((len(lengths), 1), bos)
            for t in range(top):
                step = self._decode(previous, memory, padding)[:, -1]
                previous = torch.cat([previous, step.argmax(-1, keepdim=True)], 1)
                logits = step.unsqueeze(1) if t == 0 else torch.cat([logits, step.unsqueeze(1)], 1)
        return logits.reshape(-1, len(self.labels))[select]

    def _decode(self, previous: torch.Tensor, memory: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """Label logits at every position of ``previous`` (label ids, BOS first), attending to earlier ones only.

        Position t labels turn t: its input is the previous label plus turn t's own encoding, so the decoder need
        not learn to find its turn in the memory by attention alone."""
        t = previous.shape[1]
        x = self.label_embedding(previous) + self.position(torch.arange(t)) + memory[:, :t]
        causal = nn.Transformer.generate_square_subsequent_mask(t)
        out = self.dialogue_decoder(x, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=padding)
        return self.classifier(self.dropout(out))

    def prepare(self, features: list[dict]) -> None:
        """Before training on ``features``, the topic layer learns their turns on its own, as the paper pre-trains
        its topic model on the dialogue data: the decoder's bias starts at the log frequency of each word in them
        (the background word distribution, as in Card, Tan and Smith's SCHOLAR), so that the topic explains how a
        turn's words differ from the corpus's, then the VAE trains for ``topic_pretrain_epochs`` on the backbone's
        vectors of the turns (computed once; the backbone is not changed). Trained with the classifier only, from a
        zero bias, its reconstruction stayed at log(vocabulary) per word through 2 epochs and its KL near 0: a topic
        that said nothing (``benchmarks/results/todkat_topic.json``). Without a topic weight there is no topic."""
        if not self.config.topic_weight:
            return
        turns = [turn for d in self.dialogues_of(features) for turn in zip(d["ids"], d["own"])]
        batches = []
        was = self.training
        self.eval()
        with torch.no_grad():
            counts = torch.zeros(len(self.tokenizer))
            for start in range(0, len(turns), 64):
                ids, mask, own = self.padded(turns[start : start + 64])
                batches.append((self._pooled(ids, mask), ids, own))
                counts.index_add_(0, ids.flatten(), own.flatten().float())
            counts[self.tokenizer.all_special_ids] = 0
            smoothed = counts + BACKGROUND_PSEUDO_COUNT  # a word unseen in training is rare, not impossible
            self.bag.bias.copy_(torch.log(smoothed / smoothed.sum()))
        self.train(was)
        topic = [*self.mu.parameters(), *self.logvar.parameters(), *self.bag.parameters()]
        optimizer = torch.optim.Adam(topic, lr=TOPIC_PRETRAIN_LR)
        for _ in range(self.config.topic_pretrain_epochs):
            for h, ids, own in batches:
                z, mu, logvar = self._topic(h, sample=True)
                reconstruction, kl = self._topic_loss(ids, own, z, mu, logvar)
                optimizer.zero_grad()
                (reconstruction + kl).backward()
                optimizer.step()

    def _pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """h_t: the backbone's mean-pooled vector of each turn."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).float()
        return (out * m).sum(1) / m.sum(1)

    def _topic(self, h: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The latent topic z of each turn (drawn when ``sample``, else its mean), with the mean and log-variance."""
        mu, logvar = self.mu(h), self.logvar(h).clamp(-8, 8)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return z, mu, logvar

    def _topic_loss(self, input_ids, own, z, mu, logvar) -> tuple[torch.Tensor, torch.Tensor]:
        """The VAE's negative ELBO per word of the turn, as its two terms: the reconstruction of the utterance's bag of
        words (not its speaker's name, nor special tokens) from the topic, and the KL term, both divided by the
        turn's word count (so the KL keeps its weight against the reconstruction whatever the turn's length),
        averaged over turns."""
        counts = torch.zeros(len(input_ids), len(self.tokenizer)).scatter_add_(1, input_ids, own.float())
        counts[:, self.tokenizer.all_special_ids] = 0
        reconstruction = -(counts * torch.log_softmax(self.bag(z), -1)).sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        words = counts.sum(1).clamp(min=1)
        return (reconstruction / words).mean(), (kl / words).mean()

    def save(self, path: str | Path) -> None:
        """Save both encoders, the tokenizer, the other weights, the config and the knowledge it read (as it read it:
        a knowledge file still growing beside a run is saved as it was when the model loaded it)."""
        path = save_parts(self, path)
        if self.config.knowledge or self.knowledge:  # even empty: a load must not fall back to the file as it is now
            rows = ({"text": text, "relations": relations} for text, relations in self.knowledge.items())
            write_jsonl(path / "knowledge.jsonl", rows)

    @classmethod
    def load(cls, path: str | Path) -> TODKAT:
        """A model saved by ``save`` (its knowledge is the copy saved with it)."""
        return load_parts(cls, TODKATConfig, path)
