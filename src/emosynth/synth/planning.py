"""Emotion sequences planned in code: a first-order Markov chain fitted on a benchmark's train split
(Natural mode) and target-guaranteeing plans (Balanced mode)."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from emosynth.errors import ConfigError
from emosynth.records import Dialogue
from emosynth.taxonomy import Taxonomy

log = logging.getLogger(__name__)


@dataclass
class TransitionModel:
    """Counts of first emotions and of emotion -> next emotion within dialogues; sampled with smoothing."""

    taxonomy: str
    labels: list[str]
    initial: dict[str, int]
    transitions: dict[str, dict[str, int]]
    source: str = ""
    smoothing: float = 0.1

    @classmethod
    def fit(cls, dialogues: Iterable[Dialogue], taxonomy: Taxonomy, source: str = "") -> TransitionModel:
        """Count first emotions and transitions in ``dialogues`` (labels of ``taxonomy``)."""
        initial = dict.fromkeys(taxonomy.labels, 0)
        trans = {a: dict.fromkeys(taxonomy.labels, 0) for a in taxonomy.labels}
        for d in dialogues:
            emotions = d.emotions
            if emotions:
                initial[emotions[0]] += 1
            for a, b in zip(emotions, emotions[1:]):
                trans[a][b] += 1
        return cls(taxonomy.name, list(taxonomy.labels), initial, trans, source)

    @classmethod
    def uniform(cls, taxonomy: Taxonomy) -> TransitionModel:
        """Every first emotion and transition equally likely."""
        ones = dict.fromkeys(taxonomy.labels, 1)
        return cls(
            taxonomy.name,
            list(taxonomy.labels),
            dict(ones),
            {a: dict(ones) for a in taxonomy.labels},
            "uniform",
        )

    def _weights(self, counts: dict[str, int]) -> list[float]:
        return [counts[lab] + self.smoothing for lab in self.labels]

    def sample(self, n: int, rng: random.Random) -> list[str]:
        """An emotion sequence of length ``n`` drawn from the chain."""
        seq = rng.choices(self.labels, weights=self._weights(self.initial))
        while len(seq) < n:
            seq += rng.choices(self.labels, weights=self._weights(self.transitions[seq[-1]]))
        return seq

    def sample_with(self, n: int, target: str, rng: random.Random, tries: int = 50) -> list[str]:
        """A chain sample that contains ``target``; if none of ``tries`` samples does, put it at a random turn."""
        for _ in range(tries):
            seq = self.sample(n, rng)
            if target in seq:
                return seq
        seq[rng.randrange(n)] = target
        return seq

    def to_dict(self) -> dict:
        """The counts as JSON (``scripts/compute_transitions.py`` writes them)."""
        return {
            "taxonomy": self.taxonomy,
            "labels": self.labels,
            "source": self.source,
            "initial": self.initial,
            "transitions": self.transitions,
        }

    def save(self, path: str | Path) -> None:
        """Write ``to_dict`` to ``path``."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, taxonomy: Taxonomy) -> TransitionModel:
        """Counts saved by ``save``, checked against ``taxonomy``'s labels."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            model = cls(raw["taxonomy"], raw["labels"], raw["initial"], raw["transitions"], raw.get("source", ""))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"Cannot read transition statistics {path}: {exc}") from exc
        if list(model.labels) != list(taxonomy.labels):
            raise ConfigError(f"{path}: labels {model.labels} do not match taxonomy '{taxonomy.name}'")
        return model


def default_transitions(taxonomy: Taxonomy) -> TransitionModel:
    """The shipped statistics for MELD / EmoryNLP; a uniform chain (with a warning) for other sets."""
    res = resources.files("emosynth").joinpath(f"resources/transitions/{taxonomy.name}.json")
    if res.is_file():
        with resources.as_file(res) as path:
            return TransitionModel.load(path, taxonomy)
    log.warning(
        "No emotion-transition statistics ship for '%s'; Natural plans use a uniform chain "
        "(pass --transitions FILE to use your own)",
        taxonomy.name,
    )
    return TransitionModel.uniform(taxonomy)


def speaker_order(speakers: list[str], n: int, rng: random.Random) -> list[str]:
    """Who speaks each turn: everyone at least once (when n allows), never the same speaker twice in a row."""
    order = rng.sample(speakers, len(speakers))[:n]
    while len(order) < n:
        order.append(rng.choice([s for s in speakers if s != order[-1]]))
    return order
