"""What each dialogue request asks for: scenario (speakers, topic, setting, relationship), turn count,
target emotion and, for planned labelling, the speaker and emotion of every turn. Fully seeded."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from emosynth.data.benchmarks import ERC_BENCHMARKS, load_split
from emosynth.errors import ConfigError
from emosynth.records import Dialogue
from emosynth.synth.planning import TransitionModel, speaker_order
from emosynth.synth.prompts import Cues
from emosynth.taxonomy import Taxonomy, load_yaml

SCENARIO_KEYS = ("names", "topics", "settings", "relationships")


@dataclass(frozen=True)
class TurnPlan:
    """The speaker and emotion planned for one turn, and the cue line shown with it."""

    speaker: str
    emotion: str
    cue: str | None = None


@dataclass
class DialogueSpec:
    """Everything a dialogue request asks for; built by ``build_spec``, fully seeded."""

    index: int
    id: str
    n_turns: int
    speakers: list[str]
    topic: str
    setting: str
    relationship: str
    target: str | None = None
    plan: list[TurnPlan] | None = None
    examples: list[Dialogue] = field(default_factory=list)


def load_scenarios(path: str | Path | None = None) -> dict[str, list[str]]:
    """The scenario lists: the shipped ``prompts/scenarios.yaml`` or a user's file of the same shape."""
    if path is None:
        with resources.as_file(resources.files("emosynth").joinpath("synth/prompts/scenarios.yaml")) as p:
            raw = load_yaml(p)
    else:
        raw = load_yaml(path)
    where = path or "scenarios.yaml"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with keys {', '.join(SCENARIO_KEYS)}")
    for key in SCENARIO_KEYS:
        values = raw.get(key)
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise ConfigError(f"{where}: `{key}` must be a non-empty list of strings")
    if len(set(raw["names"])) < 4:
        raise ConfigError(f"{where}: `names` needs at least 4 distinct names")
    return {k: [v.strip() for v in raw[k]] for k in SCENARIO_KEYS}


def rng_for(*keys: int | str) -> random.Random:
    """A generator seeded by a tuple of keys (run seed, dialogue index, ...), stable across runs."""
    return random.Random("/".join(map(str, keys)))


def seed_for(*keys: int | str) -> int:
    """A request's sampling seed from a tuple of keys (``rng_for``)."""
    return rng_for(*keys).randrange(2**31)


def build_spec(
    index: int,
    *,
    run_seed: int,
    taxonomy: Taxonomy,
    mode: str,
    strategy: str,
    scenarios: dict[str, list[str]],
    turns: tuple[int, int],
    speakers: tuple[int, int],
    transitions: TransitionModel | None,
    cues: Cues,
    id_prefix: str,
) -> DialogueSpec:
    """The spec of dialogue ``index``; Balanced targets cycle over the labels so each gets the same count."""
    # Each mode draws from its own stream: with one shared stream, a Natural plan that already holds the
    # Balanced target gave both datasets the same prompt, hence the same dialogue. (Balanced keeps the
    # original stream name so that datasets made before this change reproduce.)
    rng = rng_for(run_seed, index, "spec" if mode == "balanced" else f"spec-{mode}")
    n_turns = rng.randint(*turns)
    n_speakers = min(rng.randint(*speakers), n_turns)
    names = rng.sample(sorted(set(scenarios["names"])), n_speakers)
    target = taxonomy.labels[index % len(taxonomy.labels)] if mode == "balanced" else None
    plan = None
    if strategy == "planned":
        assert transitions is not None
        emotions = transitions.sample_with(n_turns, target, rng) if target else transitions.sample(n_turns, rng)
        order = speaker_order(names, n_turns, rng)
        phrasing = rng_for(run_seed, index, "cues")  # a stream of its own: the plans stay those of before
        plan = [TurnPlan(s, e, cues.pick(e, phrasing)) for s, e in zip(order, emotions)]
    return DialogueSpec(
        index=index,
        id=f"{id_prefix}-{index:06d}",
        n_turns=n_turns,
        speakers=names,
        topic=rng.choice(scenarios["topics"]),
        setting=rng.choice(scenarios["settings"]),
        relationship=rng.choice(scenarios["relationships"]),
        target=target,
        plan=plan,
    )


def replacements(spec: Callable[[int], DialogueSpec], n: int, kept: Counter, done: set[str]) -> list[DialogueSpec]:
    """New dialogues for those given up: as many per Balanced target (per run in Natural) as the first ``n``
    planned minus those ``kept``, taken in order from dialogues ``n`` to ``2n - 1`` not in ``done`` (a dialogue
    of ``-n N`` is the same whatever ``N``; past ``2n`` the run stops short and says so in its counts)."""
    missing = Counter(spec(i).target for i in range(n)) - kept
    picked = []
    for i in range(n, 2 * n):
        if not missing:
            break
        candidate = spec(i)
        if missing[candidate.target] and candidate.id not in done:
            picked.append(candidate)
            missing[candidate.target] -= 1
            missing = +missing
    return picked


def few_shot_pool(taxonomy: str, k: int, data_root: str | None = None) -> list[Dialogue] | None:
    """Real train dialogues to draw ``k`` style examples from (None when ``k`` is 0)."""
    if not k:
        return None
    if taxonomy not in ERC_BENCHMARKS:
        raise ConfigError(f"--few-shot needs a benchmark train split; available for: {', '.join(ERC_BENCHMARKS)}")
    return load_split(taxonomy, "train", data_root)
