"""Diversity of a corpus: self-BLEU (sacrebleu), near-duplicates (MinHash, datasketch), and semantic diversity
(mean pairwise cosine distance of MiniLM sentence embeddings). distinct-n is in ``emosynth.text``.
"""

from __future__ import annotations

import random
import statistics
from typing import Any

import numpy as np

from emosynth.quality.corpus import Corpus
from emosynth.text import distinct_n, near_duplicates


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


def mean_pairwise_distance(embeddings: np.ndarray) -> float | None:
    """Mean cosine distance between every two rows of unit-length embeddings (None for fewer than two rows)."""
    n = len(embeddings)
    if n < 2:
        return None
    sims = embeddings @ embeddings.T
    return float(1 - (sims.sum() - np.trace(sims)) / (n * (n - 1)))


def texts_by_label(corpus: Corpus) -> dict[str, list[str]]:
    """The texts carrying each label (a multi-label text under each of its labels), in corpus order."""
    by_label: dict[str, list[str]] = {}
    for text, labels in zip(corpus.texts(), corpus.labels()):
        for label in labels:
            by_label.setdefault(label, []).append(text)
    return by_label


def semantic_diversity(corpus: Corpus, encoder: SentenceEncoder, per_label: int = 200, seed: int = 0) -> dict[str, Any]:
    """Mean pairwise cosine distance of sentence embeddings, overall and within each label (seeded samples)."""
    rng = random.Random(seed)
    by_label = texts_by_label(corpus)
    samples = {k: rng.sample(v, min(per_label, len(v))) for k, v in by_label.items()}
    texts = corpus.texts()
    overall = rng.sample(texts, min(per_label * 2, len(texts)))  # the corpus as it is, not label-stratified
    unique = sorted({t for v in samples.values() for t in v} | set(overall))
    emb = dict(zip(unique, encoder.encode(unique)))

    def spread(texts: list[str]) -> float | None:
        return mean_pairwise_distance(np.stack([emb[t] for t in texts])) if texts else None

    per = {k: spread(samples[k]) for k in corpus.taxonomy.labels if k in samples}
    return {"overall": spread(overall), "per_label": {k: round(v, 4) for k, v in per.items() if v is not None}}


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.fmean(kept), 4) if kept else None


def class_diversity(
    corpus: Corpus, per_class: int = 50, seed: int = 0, semantic: dict[str, float] | None = None
) -> dict[str, Any]:
    """Utterance diversity within each label: distinct-2 and self-BLEU of a seeded sample of up to ``per_class``
    of the texts carrying it (and ``semantic``, the per-label semantic diversity, when given).

    ``neutral`` is reported apart from ``emotions``, the mean over the other labels of the taxonomy: Emo Pillars
    found its diversification weakest for neutral. A label needs two texts to have a diversity (else None, left
    out of the mean). Every class is sampled to the same size, so classes of different sizes stay comparable
    (distinct-n falls as a sample grows); a class smaller than ``per_class`` reads a little more diverse.
    """
    rng = random.Random(seed)
    by_label = texts_by_label(corpus)
    per_label: dict[str, dict[str, Any]] = {}
    for label in corpus.taxonomy.labels:
        texts = by_label.get(label, [])
        if not texts:
            continue
        picked = rng.sample(texts, min(per_class, len(texts)))
        several = len(picked) >= 2
        per_label[label] = {
            "texts": len(texts),
            "distinct_2": round(distinct_n(picked, 2), 4) if several else None,
            "self_bleu": self_bleu(picked, per_class, seed),
        }
        if semantic is not None:
            per_label[label]["semantic"] = semantic.get(label)
    emotions = [v for k, v in per_label.items() if k.casefold() != "neutral"]
    metrics = ["distinct_2", "self_bleu"] + (["semantic"] if semantic is not None else [])
    neutral = next((v for k, v in per_label.items() if k.casefold() == "neutral"), None)
    return {
        "per_class_sample": per_class,
        "per_label": per_label,
        "neutral": {m: neutral[m] for m in metrics} if neutral else None,
        "emotions": {"labels": sum(v["distinct_2"] is not None for v in emotions)}
        | {m: _mean([v[m] for v in emotions]) for m in metrics},
    }
