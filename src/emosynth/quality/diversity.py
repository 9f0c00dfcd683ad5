"""Lexical diversity. distinct-n is written by hand: no maintained library computes it."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


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
