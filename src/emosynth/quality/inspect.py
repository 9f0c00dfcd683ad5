"""``emosynth inspect``: what a dataset looks like, synthetic or real, and how far it is from a real one.

Every statistic is computed the same way for every corpus, so Natural, Balanced and the real benchmark
can stand side by side. Sampled statistics (self-BLEU, semantic diversity) use a seeded sample.
"""

from __future__ import annotations

import logging
import random
import re
import statistics
from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from emosynth.quality.corpus import Corpus
from emosynth.quality.diversity import distinct_n, tokens
from emosynth.taxonomy import Taxonomy, load_yaml

log = logging.getLogger(__name__)
_WORD = re.compile(r"\w+(?:'\w+)?")


def label_distribution(corpus: Corpus, into: Taxonomy | None = None) -> dict[str, float]:
    """Fraction of label occurrences per label (of ``into`` when given; unmappable labels are left out)."""
    tax = into or corpus.taxonomy
    counts = Counter()
    for labels in corpus.labels():
        for label in labels:
            mapped = label if into is None or into is corpus.taxonomy else corpus.taxonomy.map_to(label, into)
            if mapped is not None:
                counts[mapped] += 1
    total = sum(counts.values())
    return {label: counts[label] / total if total else 0.0 for label in tax.labels}


def js_divergence(p: dict[str, float], q: dict[str, float]) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between two label distributions over the same labels."""
    from scipy.spatial.distance import jensenshannon

    labels = sorted(set(p) | set(q))
    a, b = np.array([p.get(k, 0.0) for k in labels]), np.array([q.get(k, 0.0) for k in labels])
    if a.sum() == 0 or b.sum() == 0:
        return float("nan")
    return float(jensenshannon(a, b, base=2) ** 2)


def transitions(corpus: Corpus) -> dict[str, Any]:
    """Emotion transitions between consecutive turns: P(next | current), and how often the emotion shifts."""
    labels = corpus.taxonomy.labels
    counts = {a: Counter() for a in labels}
    shifts = pairs = 0
    for d in corpus.dialogues:
        for a, b in zip(d.emotions, d.emotions[1:]):
            counts[a][b] += 1
            pairs += 1
            shifts += a != b
    matrix = {a: {b: (counts[a][b] / sum(counts[a].values()) if counts[a] else 0.0) for b in labels} for a in labels}
    return {"shift_rate": shifts / pairs if pairs else None, "pairs": pairs, "matrix": matrix}


def _summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "mean": round(statistics.fmean(values), 3),
        "median": float(statistics.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def self_bleu(texts: list[str], sample: int = 200, seed: int = 0) -> float | None:
    """Mean sentence BLEU of each sampled text against the other sampled texts (sacrebleu; higher = more alike)."""
    from sacrebleu.metrics import BLEU

    picked = random.Random(seed).sample(texts, min(sample, len(texts)))
    if len(picked) < 2:
        return None
    bleu = BLEU(effective_order=True)
    scores = [bleu.sentence_score(h, picked[:i] + picked[i + 1 :]).score for i, h in enumerate(picked)]
    return round(statistics.fmean(scores) / 100, 4)


def repeat_rate(corpus: Corpus) -> float | None:
    """Fraction of turns that repeat an earlier turn of the same dialogue verbatim (case/punctuation folded)."""
    if not corpus.is_dialogue:
        return None
    repeats = total = 0
    for d in corpus.dialogues:
        seen = set()
        for t in d.turns:
            key = " ".join(_WORD.findall(t.text.casefold()))
            repeats += key in seen
            seen.add(key)
            total += 1
    return repeats / total if total else 0.0


def near_duplicate_rate(texts: list[str], threshold: float = 0.8, num_perm: int = 128, seed: int = 1) -> float:
    """Fraction of texts with another text at estimated Jaccard >= ``threshold`` (MinHash LSH, datasketch).

    Shingles are word 3-grams; a text shorter than three words is one shingle (itself), so short stock
    replies such as "Okay." count as duplicates of each other, as they are. LSH candidates are kept only when
    their estimated Jaccard similarity reaches the threshold. The rate grows with corpus size: compare
    corpora on samples of the same size (``inspect`` does).
    """
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = []
    for i, text in enumerate(texts):
        words = _WORD.findall(text.casefold())
        shingles = {" ".join(words[k : k + 3]) for k in range(max(1, len(words) - 2))}
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch([s.encode() for s in shingles])
        lsh.insert(i, m)
        hashes.append(m)
    dup = sum(
        1 for i, m in enumerate(hashes) if any(j != i and hashes[j].jaccard(m) >= threshold for j in lsh.query(m))
    )
    return dup / len(texts) if texts else 0.0


@cache
def _emotion_words() -> dict[str, frozenset[str]]:
    with resources.as_file(resources.files("emosynth").joinpath("resources/emotion_words.yaml")) as p:
        raw = load_yaml(p)
    return {str(k).casefold(): frozenset(map(str.casefold, v)) for k, v in raw.items()}


def leakage(corpus: Corpus) -> dict[str, Any]:
    """How often a text names its own label ("I'm so angry" labelled anger), overall and per label."""
    words = _emotion_words()
    hits, totals = Counter(), Counter()
    for text, labels in zip(corpus.texts(), corpus.labels()):
        present = set(_WORD.findall(text.casefold()))
        for label in labels:
            forms = words.get(label.casefold(), frozenset({label.casefold()}))
            totals[label] += 1
            hits[label] += bool(present & forms)
    total = sum(totals.values())
    return {
        "rate": sum(hits.values()) / total if total else 0.0,
        "per_label": {k: hits[k] / totals[k] for k in corpus.taxonomy.labels if totals[k]},
    }


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


def inspect(
    corpus: Corpus,
    against: Corpus | None = None,
    encoder: SentenceEncoder | None = None,
    sample: int = 200,
    seed: int = 0,
    distinct_sample: int = 400,
) -> dict[str, Any]:
    """All statistics of one corpus (and its distance to ``against``) as a JSON-ready dict.

    distinct-n falls and the near-duplicate rate rises as a corpus grows, so both are taken on a seeded
    sample of ``distinct_sample`` texts: corpora of different sizes stay comparable.
    """
    texts = corpus.texts()
    picked = random.Random(seed).sample(texts, min(distinct_sample, len(texts)))
    lengths = [len(tokens(t)) for t in texts]
    report: dict[str, Any] = {
        "name": corpus.name,
        "source": corpus.source,
        "taxonomy": corpus.taxonomy.name,
        "kind": "dialogues" if corpus.is_dialogue else "examples",
        "size": {"dialogues": len(corpus.dialogues) or None, "texts": len(texts)},
        "label_counts": dict(Counter(label for labels in corpus.labels() for label in labels)),
        "label_distribution": label_distribution(corpus),
        "utterance_tokens": _summary(lengths),
        "distinct_sample": len(picked),
        "distinct_1": round(distinct_n(picked, 1), 4),
        "distinct_2": round(distinct_n(picked, 2), 4),
        "self_bleu": self_bleu(texts, sample, seed),
        "near_duplicate_rate": round(near_duplicate_rate(picked), 4),
        "verbatim_repeat_rate": repeat_rate(corpus),
        "leakage": leakage(corpus),
    }
    if corpus.is_dialogue:
        report["turns_per_dialogue"] = _summary([len(d.turns) for d in corpus.dialogues])
        report["speakers_per_dialogue"] = _summary([len(d.speakers) for d in corpus.dialogues])
        report["transitions"] = transitions(corpus)
    if encoder is not None:
        report["semantic_diversity"] = semantic_diversity(corpus, encoder, sample, seed)
    if against is not None:
        mine = label_distribution(corpus, against.taxonomy)
        real = label_distribution(against)
        report["against"] = {
            "name": against.name,
            "js_divergence": round(js_divergence(mine, real), 4),
            "difference": {k: round(mine[k] - real[k], 4) for k in against.taxonomy.labels},
        }
    return report


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if pct:
        return f"{100 * value:.1f}%"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table_rows(reports: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(row name, one cell per report): the side-by-side table ``inspect`` prints and the report embeds."""

    def get(r: dict, *path: str) -> Any:
        for key in path:
            r = r.get(key) if isinstance(r, dict) else None
        return r

    rows: list[tuple[str, list[str]]] = [
        ("dialogues", [_fmt(get(r, "size", "dialogues")) for r in reports]),
        ("texts", [_fmt(get(r, "size", "texts")) for r in reports]),
    ]
    labels = list(dict.fromkeys(k for r in reports for k in r["label_distribution"]))
    rows += [(f"label {k}", [_fmt(r["label_distribution"].get(k), pct=True) for r in reports]) for k in labels]
    rows += [
        ("JS divergence vs real", [_fmt(get(r, "against", "js_divergence")) for r in reports]),
        ("tokens per utterance", [_fmt(get(r, "utterance_tokens", "mean")) for r in reports]),
        ("turns per dialogue", [_fmt(get(r, "turns_per_dialogue", "mean")) for r in reports]),
        ("speakers per dialogue", [_fmt(get(r, "speakers_per_dialogue", "mean")) for r in reports]),
        ("emotion shift rate", [_fmt(get(r, "transitions", "shift_rate"), pct=True) for r in reports]),
        ("distinct-1 (sample)", [_fmt(r["distinct_1"]) for r in reports]),
        ("distinct-2 (sample)", [_fmt(r["distinct_2"]) for r in reports]),
        ("self-BLEU (lower = more diverse)", [_fmt(r["self_bleu"]) for r in reports]),
        ("semantic diversity", [_fmt(get(r, "semantic_diversity", "overall")) for r in reports]),
        ("near-duplicate texts (sample)", [_fmt(r["near_duplicate_rate"], pct=True) for r in reports]),
        ("verbatim repeats in dialogue", [_fmt(r["verbatim_repeat_rate"], pct=True) for r in reports]),
        ("label word in text", [_fmt(get(r, "leakage", "rate"), pct=True) for r in reports]),
    ]
    rows += [
        (f"semantic diversity {k}", [_fmt(get(r, "semantic_diversity", "per_label", k)) for r in reports])
        for k in labels
        if any(get(r, "semantic_diversity", "per_label", k) is not None for r in reports)
    ]
    return rows


def format_table(reports: list[dict[str, Any]]) -> str:
    """Plain-text table, one column per corpus."""
    rows = [("", [r["name"] for r in reports]), *table_rows(reports)]
    width = max(len(name) for name, _ in rows)
    cols = [max(len(row[1][i]) for row in rows) for i in range(len(reports))]
    lines = [name.ljust(width) + "  " + "  ".join(c.rjust(w) for c, w in zip(cells, cols)) for name, cells in rows]
    return "\n".join(lines)
