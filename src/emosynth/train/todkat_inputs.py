"""How TODKAT (``train.todkat``) reads dialogues: every turn item is put back into its whole dialogue (rebuilt from
the item's history and future), each turn gets its token ids, the tokens that are its own words (the topic's bag of
words, not the speaker's name) and its knowledge phrases, embedded once by the frozen knowledge encoder; batches
hold whole dialogues, padded to the longest.
"""

from __future__ import annotations

import random

import torch

from emosynth.errors import ConfigError
from emosynth.records import ATOMIC_RELATIONS as RELATIONS
from emosynth.train.items import TurnItem

# each relation in words, for the knowledge encoder ("The speaker feels: frustration")
SAID = {
    "xIntent": "The speaker's intent",
    "xReact": "The speaker feels",
    "xWant": "The speaker wants",
    "oReact": "The listener feels",
    "xEffect": "What happens next",
}


class DialogueInputs:
    """Featurizing, batching and collating for TODKAT (a mixin: it uses the model's ``tokenizer``, ``knower``,
    ``config``, ``knowledge`` and ``_vectors``)."""

    @torch.no_grad()
    def _embed(self, phrases: list[str], batch_size: int = 64) -> None:
        """Mean-pooled vectors of the frozen knowledge encoder, once per distinct phrase."""
        todo = sorted({p for p in phrases if p not in self._vectors}, key=len)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            enc = self.tokenizer(chunk, truncation=True, max_length=32, padding=True, return_tensors="pt")
            enc.pop("token_type_ids", None)
            out = self.knower(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1)
            self._vectors.update(zip(chunk, (out * mask).sum(1) / mask.sum(1)))

    def featurize(self, items: list[TurnItem]) -> list[dict]:
        """Per item: its utterance's token ids, its position, and its dialogue (rebuilt from the item's history and
        future, shared by the items of that dialogue: token ids, knowledge phrases, the labels the items carry)."""
        dialogues: dict[tuple, dict] = {}
        features = []
        for item in items:
            turns = [*item.history, (item.speaker, item.text), *item.future]
            key = (item.dialogue_id, tuple(turns))  # two dialogues that share an id (merged files) stay apart
            dialogue = dialogues.get(key)
            if dialogue is None:
                encoded = [self._ids(speaker, text) for speaker, text in turns]
                dialogue = {
                    "ids": [ids for ids, _ in encoded],
                    "own": [own for _, own in encoded],  # per token: part of the utterance (not its speaker prefix)
                    "knowledge": [self._phrases(text) for _, text in turns],
                    "labels": [-1] * len(turns),
                }
                dialogues[key] = dialogue
            position = len(item.history)
            if isinstance(item.label, int):
                dialogue["labels"][position] = item.label
            features.append({"input_ids": dialogue["ids"][position], "dialogue": dialogue, "position": position})
        self._embed([p for d in dialogues.values() for turn in d["knowledge"] for p in turn])
        return features

    def coverage(self, items: list[TurnItem]) -> float | None:
        """The share of ``items`` whose utterance has knowledge (None without items)."""
        return round(sum(bool(self._phrases(i.text)) for i in items) / len(items), 4) if items else None

    def _ids(self, speaker: str, text: str) -> tuple[list[int], list[int]]:
        """The token ids of ``speaker: text``, and per token whether it belongs to the text (the topic's words)."""
        prefix = len(f"{speaker}: ")
        enc = self.tokenizer(
            f"{speaker}: {text}", truncation=True, max_length=self.config.max_length, return_offsets_mapping=True
        )
        return enc["input_ids"], [int(start >= prefix) for start, _ in enc["offset_mapping"]]

    def _phrases(self, text: str) -> list[str]:
        """The turn's inferences as the knowledge encoder reads them, in ``RELATIONS`` order ("The speaker wants: more
        information"; words, not the relation's tag, which means nothing to a sentence encoder)."""
        relations = self.knowledge.find(text)
        return [f"{SAID[r]}: {relations[r]}" for r in self.config.relations or RELATIONS if r in relations]

    def batches(self, features: list[dict], batch_size: int, seed: int | None = None) -> list[list[int]]:
        """Whole dialogues per batch, about ``batch_size`` items each; dialogues shuffled when ``seed`` is given."""
        by_dialogue: dict[int, list[int]] = {}
        for i, f in enumerate(features):
            by_dialogue.setdefault(id(f["dialogue"]), []).append(i)
        groups = list(by_dialogue.values())
        if seed is not None:
            random.Random(seed).shuffle(groups)
        batches, current = [], []
        for group in groups:
            current += group
            if len(current) >= batch_size:
                batches.append(current)
                current = []
        return batches + ([current] if current else [])

    @staticmethod
    def dialogues_of(features: list[dict]) -> list[dict]:
        """The distinct dialogues of ``features``, in the order they first appear."""
        return list({id(f["dialogue"]): f["dialogue"] for f in features}.values())

    def padded(self, turns: list[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Token ids, attention mask and own-word flags of ``turns`` (each its ids and flags), padded to the longest."""
        width = max(len(ids) for ids, _ in turns)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in turns])
        mask = (torch.arange(width)[None, :] < torch.tensor([len(ids) for ids, _ in turns])[:, None]).long()
        own = torch.tensor([flags + [0] * (width - len(flags)) for _, flags in turns])
        return input_ids, mask, own

    def collate(self, features: list[dict]) -> dict[str, torch.Tensor]:
        """The batch's dialogues, every turn of each (padded), and where each item sits in them."""
        dialogues = self.dialogues_of(features)
        where = {id(d): b for b, d in enumerate(dialogues)}
        lengths = torch.tensor([len(d["ids"]) for d in dialogues])
        if int(lengths.max()) > self.config.max_turns:
            raise ConfigError(
                f"a dialogue of {int(lengths.max())} turns exceeds TODKAT's max_turns={self.config.max_turns}"
            )
        turns = [turn for d in dialogues for turn in zip(d["ids"], d["own"])]
        input_ids, mask, own = self.padded(turns)
        phrases = [turn for d in dialogues for turn in d["knowledge"]]
        slots = 1 + max(map(len, phrases))
        dk = self.knower.config.hidden_size
        knowledge = torch.zeros(len(turns), slots, dk)
        known = torch.zeros(len(turns), slots, dtype=torch.bool)
        for t, turn in enumerate(phrases):
            for s, phrase in enumerate(turn, start=1):
                knowledge[t, s], known[t, s] = self._vectors[phrase], True
        top = int(lengths.max())
        gold = torch.full((len(dialogues), top), -1)
        for b, d in enumerate(dialogues):
            gold[b, : len(d["labels"])] = torch.tensor(d["labels"])
        select = torch.tensor([where[id(f["dialogue"])] * top + f["position"] for f in features])
        return {
            "input_ids": input_ids,
            "attention_mask": mask,
            "own": own,
            "knowledge": knowledge,
            "known": known,
            "lengths": lengths,
            "gold": gold,
            "select": select,
        }
