"""``emosynth inspect``: what a dataset looks like, synthetic or real, and how far it is from a real one.

Every statistic is computed the same way for every corpus, so Natural, Balanced and the real benchmark
can stand side by side. Sampled statistics (self-BLEU, semantic diversity) use a seeded sample.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from emosynth.data.io import ensure_writable, write_atomic
from emosynth.quality.contexts import context_personalization
from emosynth.quality.corpus import Corpus, load_corpus
from emosynth.quality.diversity import (
    SentenceEncoder,
    class_diversity,
    near_duplicate_rate,
    self_bleu,
    semantic_diversity,
)
from emosynth.quality.leakage import leakage
from emosynth.synth.planning import TransitionModel
from emosynth.taxonomy import Taxonomy
from emosynth.text import distinct_n, normalise, tokens


def label_distribution(corpus: Corpus, into: Taxonomy | None = None) -> dict[str, float]:
    """Fraction of label occurrences per label (of ``into`` when given; unmappable labels are left out, and so
    are labels outside the corpus's own set: ``out_of_taxonomy`` counts those)."""
    tax = into or corpus.taxonomy
    outside = corpus.out_of_taxonomy()
    counts = Counter()
    for labels in corpus.labels():
        for label in labels:
            if into is not None and label in outside:
                continue
            mapped = label if into is None else corpus.taxonomy.convert(label, into)
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
    counts = TransitionModel.fit(corpus.dialogues, corpus.taxonomy).transitions
    pairs = sum(sum(row.values()) for row in counts.values())
    shifts = pairs - sum(counts[a][a] for a in counts)
    matrix = {
        a: {b: n / total if (total := sum(row.values())) else 0.0 for b, n in row.items()} for a, row in counts.items()
    }
    return {"shift_rate": shifts / pairs if pairs else None, "pairs": pairs, "matrix": matrix}


def _summary(values: list[float]) -> dict[str, float] | None:
    """Mean, median, min and max (None for no values)."""
    if not values:
        return None
    return {
        "mean": round(statistics.fmean(values), 3),
        "median": float(statistics.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def out_of_taxonomy(corpus: Corpus) -> dict[str, Any]:
    """Labels that are not in the corpus's label set: occurrences in all, texts carrying one, and per label."""
    outside = corpus.out_of_taxonomy()
    return {
        "count": sum(outside.values()),
        "texts": sum(1 for labels in corpus.labels() if any(label in outside for label in labels)),
        "per_label": dict(outside.most_common()),
    }


def openers(corpus: Corpus) -> dict[str, dict[str, Any]]:
    """Per label, its texts' most common first word and first two words, with the share of the label's texts that
    open with them: a label bought with a formula ("Ew", "Yay", "What") shows a share far above the real data's."""
    firsts: dict[str, Counter] = {}
    bigrams: dict[str, Counter] = {}
    for text, labels in zip(corpus.texts(), corpus.labels()):
        ws = normalise(text).split()
        if not ws:
            continue
        for label in labels:
            firsts.setdefault(label, Counter())[ws[0]] += 1
            bigrams.setdefault(label, Counter())[" ".join(ws[:2])] += 1
    out = {}
    for label in corpus.taxonomy.labels:
        if label in firsts:
            n = sum(firsts[label].values())
            (word, k), (pair, m) = firsts[label].most_common(1)[0], bigrams[label].most_common(1)[0]
            out[label] = {"texts": n, "word": word, "word_share": round(k / n, 4), "bigram": pair}
            out[label]["bigram_share"] = round(m / n, 4)
    return out


def repeat_rate(corpus: Corpus) -> float | None:
    """Fraction of turns that repeat an earlier turn of the same dialogue verbatim (case/punctuation folded)."""
    if not corpus.is_dialogue:
        return None
    repeats = total = 0
    for d in corpus.dialogues:
        seen = set()
        for t in d.turns:
            key = normalise(t.text)
            repeats += key in seen
            seen.add(key)
            total += 1
    return repeats / total if total else 0.0


def describe_corpus(
    corpus: Corpus,
    against: Corpus | None = None,
    encoder: SentenceEncoder | None = None,
    sample: int = 200,
    seed: int = 0,
    distinct_sample: int = 400,
    per_class: int = 50,
) -> dict[str, Any]:
    """All statistics of one corpus (and its distance to ``against``) as a JSON-ready dict.

    distinct-n falls and the near-duplicate rate rises as a corpus grows, so both are taken on a seeded
    sample of ``distinct_sample`` texts: corpora of different sizes stay comparable. Utterance-level corpora
    also get the diversity within each label (``class_diversity``, on ``per_class`` texts per label) and, when
    their examples have contexts, how personal those contexts are (``context_personalization``).
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
        "out_of_taxonomy": out_of_taxonomy(corpus),
        "openers": openers(corpus),
    }
    if corpus.is_dialogue:
        report["turns_per_dialogue"] = _summary([len(d.turns) for d in corpus.dialogues])
        report["speakers_per_dialogue"] = _summary([len(d.speakers) for d in corpus.dialogues])
        report["transitions"] = transitions(corpus)
    if encoder is not None:
        report["semantic_diversity"] = semantic_diversity(corpus, encoder, sample, seed)
    if not corpus.is_dialogue:
        per_label = report["semantic_diversity"]["per_label"] if encoder is not None else None
        report["class_diversity"] = class_diversity(corpus, per_class, seed, per_label)
        report["context_personalization"] = context_personalization(corpus.examples, encoder, sample, seed)
    if against is not None:
        mine = label_distribution(corpus, against.taxonomy)
        real = label_distribution(against)
        report["against"] = {
            "name": against.name,
            "js_divergence": round(js_divergence(mine, real), 4),
            "difference": {k: round(mine[k] - real[k], 4) for k in against.taxonomy.labels},
            # per label: this corpus's top-opener share over the real one's (the target: at most 2)
            "opener_ratio": _opener_ratio(report["openers"], openers(against), corpus.taxonomy, against.taxonomy),
        }
    return report


def _opener_ratio(mine: dict, real: dict, taxonomy: Taxonomy, into: Taxonomy) -> dict[str, float]:
    out = {}
    for label, stats in mine.items():
        mapped = label if taxonomy == into else taxonomy.convert(label, into)
        if mapped in real and real[mapped]["word_share"]:
            out[label] = round(stats["word_share"] / real[mapped]["word_share"], 3)
    return out


def describe_specs(
    specs: list[str],
    against: str | None = None,
    data_root: str | None = None,
    semantic: bool = True,
    sample: int = 200,
    seed: int = 0,
    json_out: str | Path | None = None,
) -> list[dict[str, Any]]:
    """``emosynth inspect``: ``describe_corpus`` of each corpus spec, the real ``against`` corpus last.

    Args:
        specs: JSONL paths or benchmark specs (``meld:train``).
        against: a real benchmark spec to compare with (its own statistics come last).
        data_root: benchmark folder.
        semantic: include MiniLM embedding diversity.
        sample: texts sampled for self-BLEU, and per label (contexts per theme) for semantic diversity.
        seed: seeds every sample.
        json_out: also write the statistics here as JSON.
    """
    if json_out is not None:
        ensure_writable(json_out)
    corpora = [load_corpus(spec, data_root) for spec in specs]
    real = load_corpus(against, data_root) if against else None
    encoder = SentenceEncoder() if semantic else None
    reports = [describe_corpus(c, real, encoder, sample, seed) for c in corpora]
    if real is not None:
        reports.append(describe_corpus(real, real, encoder, sample, seed))
    if json_out is not None:
        write_atomic(json_out, json.dumps(reports, indent=1, ensure_ascii=False) + "\n")
    return reports
