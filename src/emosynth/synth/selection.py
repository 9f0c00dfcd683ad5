"""Best-of-n turn selection in dialogue generation: what a request asks of the backend's chooser, and what the
judge made of the turns it kept (``metadata["judge"]`` of a dialogue), with the rejection of a turn it scored too
low."""

from __future__ import annotations

from emosynth.errors import ConfigError
from emosynth.judge import Chooser, chooser_rules
from emosynth.llm.base import Completion
from emosynth.records import Dialogue, Turn
from emosynth.synth.config import DialogueConfig
from emosynth.synth.parse import InvalidOutput
from emosynth.synth.specs import DialogueSpec


def checked_chooser(config: DialogueConfig, chooser: Chooser | None, labels: str) -> Chooser:
    """The chooser of a run whose config names a judge, refused unless it scores the run's label set (named
    ``labels``) and was built with the rules the config records (else the run records a cap it does not apply)."""
    if chooser is None:
        raise ConfigError(f"judge {config.judge} is set but no chooser was given")
    if chooser.taxonomy.name != labels:
        raise ConfigError(
            f"the judge {config.judge} labels {chooser.taxonomy.name}, not {labels}: "
            f"train one on the {labels} benchmark"
        )
    if chooser.rules != chooser_rules(config.opener_cap):
        raise ConfigError(
            f"the chooser applies {chooser.rules or 'no rules'} but the run records opener_cap={config.opener_cap}: "
            "build the chooser with the run's opener cap"
        )
    return chooser


def best_of(
    chooser: Chooser | None,
    n: int,
    spec: DialogueSpec,
    min_score: float = 0.0,
    rounds: int = 1,
) -> dict:
    """The request fields of a planned dialogue's best-of-``n`` filling (none without a chooser); a turn whose best
    candidate scores below ``min_score`` gets up to ``rounds`` rounds of ``n`` candidates. The chooser's rules (e.g.
    its opener cap) are named in the request."""
    if chooser is None:
        return {}
    labels = tuple(p.emotion for p in spec.plan)
    retry = {"hole_min_score": min_score, "hole_rounds": rounds} if min_score > 0 and rounds > 1 else {}
    rules = {"chooser_rules": chooser.rules} if chooser.rules else {}
    return {"hole_candidates": n, "hole_labels": labels, "chooser": chooser.identity} | retry | rules


def judged_turns(chooser: Chooser | None, min_score: float, turns: list[Turn], completion: Completion) -> dict:
    """What the judge made of the kept turns (``{"judge": ...}`` in the dialogue's metadata); a turn it scores
    below ``min_judge_score`` rejects the dialogue."""
    scores = completion.extra.get("hole_scores")
    if chooser is None or scores is None:
        return {}
    for i, (turn, score) in enumerate(zip(turns, scores)):
        if score < min_score:
            detail = f"turn {i + 1} does not read as {turn.emotion} (judge score {max(score, 0):.2f})"
            raise InvalidOutput("judge_below_threshold", detail)
    return {
        "judge": {
            "selected_by": chooser.identity,
            "scores": [round(s, 4) for s in scores],
            "agree": completion.extra["hole_agree"],
            "candidates": completion.extra["hole_candidates"],
        }
    }


def replay_kept(chooser: Chooser, dialogues: list[Dialogue]) -> None:
    """Tell the chooser the turns an earlier run kept, in order: a resumed run remembers their openers as the
    uninterrupted run would have."""
    for d in dialogues:
        for turn in d.turns:
            chooser.kept(turn.emotion, turn.text)
