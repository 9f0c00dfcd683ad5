"""Diversity of a corpus: self-BLEU (sacrebleu), near-duplicates (MinHash, datasketch), and semantic diversity
(mean pairwise cosine distance of MiniLM sentence embeddings). distinct-n is in ``emosynth.text``.
"""

from __future__ import annotations

import random
import statistics
from typing import Any

import numpy as np

from emosynth.quality.corpus import Corpus
from emosynth.text import near_duplicates


def self_bleu(texts: list[str], sample: int = 200, seed: int = 0) -> float | None:
    """Mean sentence BLEU of each sampled text against the other sampled texts (sacrebleu; higher = more alike)."""
    from sacrebleu.metrics import BLEU

    picked = random.Random(seed).sample(texts, min(sample, len(texts)))
    if len(picked) < 2:
        return None
    bleu = BLEU(effective_order=True)
    scores = [bleu.sentence_score(h, picked[:i] + picked[i + 1 :]).score for i, h in enumerate(picked)]
    return round(statistics.fmean(scores) / 100, 4)


def near_duplicate_rate(texts: list[str], threshold: float = 0.8, num_perm: int = 128, seed: int = 1) -> float:
    """Fraction of texts with another text at estimated Jaccard >= ``threshold`` (``text.near_duplicates``).

    The rate grows with corpus size: compare corpora on samples of the same size (``inspect`` does).
    """
    groups = near_duplicates(texts, threshold, num_perm, seed)
    return sum(1 for g in groups if g) / len(texts) if texts else 0.0


class SentenceEncoder:
    """Mean-pooled, normalised sentence embeddings from a local encoder (default: the packaged MiniLM)."""

    def __init__(self, path: str | None = None, batch_size: int = 64):
        import torch
        from transformers import AutoModel, AutoTokenizer

        from emosynth.train.models import default_backbone

        self.torch, self.batch_size = torch, batch_size
        path = path or default_backbone()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text, in the order given (batched by length)."""
        torch = self.torch
        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for k in range(0, len(order), self.batch_size):
                batch = [texts[i] for i in order[k : k + self.batch_size]]
                enc = self.tokenizer(batch, padding=True, truncation=True, max_length=128, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).float()
                vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out.append(torch.nn.functional.normalize(vec, dim=-1).numpy())
        emb = np.concatenate(out) if out else np.zeros((0, 1))
        result = np.empty_like(emb)
        result[order] = emb
        return result


def semantic_diversity(corpus: Corpus, encoder: SentenceEncoder, per_label: int = 200, seed: int = 0) -> dict[str, Any]:
    """Mean pairwise cosine distance of sentence embeddings, overall and within each label (seeded samples)."""
    rng = random.Random(seed)
    by_label: dict[str, list[str]] = {}
    for text, labels in zip(corpus.texts(), corpus.labels()):
        for label in labels:
            by_label.setdefault(label, []).append(text)
    samples = {k: rng.sample(v, min(per_label, len(v))) for k, v in by_label.items()}
    texts = corpus.texts()
    overall = rng.sample(texts, min(per_label * 2, len(texts)))  # the corpus as it is, not label-stratified
    unique = sorted({t for v in samples.values() for t in v} | set(overall))
    emb = dict(zip(unique, encoder.encode(unique)))

    def spread(texts: list[str]) -> float | None:
        if len(texts) < 2:
            return None
        m = np.stack([emb[t] for t in texts])
        sims = m @ m.T
        n = len(texts)
        return float(1 - (sims.sum() - np.trace(sims)) / (n * (n - 1)))

    per = {k: spread(samples[k]) for k in corpus.taxonomy.labels if k in samples}
    return {"overall": spread(overall), "per_label": {k: round(v, 4) for k, v in per.items() if v is not None}}
