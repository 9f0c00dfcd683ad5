"""Word-level text helpers shared by generation and quality: tokens, words, normalising, n-grams, distinct-n.

Floor: the bottom (imports nothing of emosynth). distinct-n is written by hand: no maintained library computes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+(?:'\w+)?")
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def tokens(text: str) -> list[str]:
    """Case-folded words and punctuation marks, in order (``"Don't GO!"`` -> ``["don't", "go", "!"]``)."""
    return _TOKEN.findall(text.casefold())


def words(text: str) -> list[str]:
    """Case-folded words only (apostrophes kept inside a word), in order."""
    return _WORD.findall(text.casefold())


def normalise(text: str) -> str:
    """Case- and punctuation-folded text, for spotting verbatim repeats."""
    return " ".join(words(text))


def word_ngrams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The set of ``n``-word runs of ``text`` (case-folded, punctuation dropped)."""
    ws = words(text)
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def distinct_n(texts: Iterable[str], n: int = 2) -> float:
    """Distinct n-grams / all n-grams over a corpus of texts (Li et al. 2016); 0.0 for no n-grams."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        toks = tokens(text)
        grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def near_duplicates(texts: list[str], threshold: float = 0.8, num_perm: int = 128, seed: int = 1) -> list[set[int]]:
    """For every text, the other texts at estimated Jaccard similarity >= ``threshold`` (MinHash LSH, datasketch).

    Shingles are word 3-grams; a text shorter than three words is one shingle (itself), so short stock replies
    such as "Okay." count as duplicates of each other, as they are. LSH candidates are kept only when their
    estimated Jaccard similarity reaches the threshold.
    """
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes = []
    for i, text in enumerate(texts):
        ws = words(text)
        shingles = {" ".join(ws[k : k + 3]) for k in range(max(1, len(ws) - 2))}
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch([s.encode() for s in shingles])
        lsh.insert(i, m)
        hashes.append(m)
    return [{j for j in lsh.query(m) if j != i and hashes[j].jaccard(m) >= threshold} for i, m in enumerate(hashes)]
