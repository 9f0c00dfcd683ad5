"""Batches grouped by length (few pad tokens) in a seeded, shuffled order."""

from __future__ import annotations

import random
from collections.abc import Sequence


def length_grouped_batches(lengths: Sequence[int], batch_size: int, seed: int, group: int = 50) -> list[list[int]]:
    """Shuffle, cut into mega-batches of ``batch_size * group``, sort each by length, split into batches,
    shuffle the batches (the scheme of Hugging Face's LengthGroupedSampler)."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = batch_size * group
    batches = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega], key=lambda i: -lengths[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def sequential_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Evaluation order: sorted by length for speed; callers put predictions back by index."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[j : j + batch_size] for j in range(0, len(order), batch_size)]
