"""What a generation run did: counts, rejection reasons, tokens, speed; printed and saved as ``<out>.summary.json``,
which also keeps every earlier invocation into the same output and what the whole file holds (a sample made over
several resumed runs is described by all of them)."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosynth.data.io import read_dialogues, sidecar
from emosynth.records import Dialogue
from emosynth.text import distinct_n


@dataclass
class RunSummary:
    """What a run did; printed at the end and saved as ``<out>.summary.json``."""

    requested: int = 0
    already_done: int = 0
    accepted: int = 0
    rejected: int = 0
    replacements: int = 0  # dialogues added beyond the n requested in place of ones given up (replace_given_up)
    attempts: int = 0
    cached_responses: int = 0  # answered from the cache: no decoding, so not in the tokens, seconds or reasons below
    replayed_rejections: int = 0  # cached answers that failed again (a resumed run replays an earlier run's failures)
    rejections_by_reason: Counter = field(default_factory=Counter)
    final_rejections_by_reason: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    forced_tokens: int = 0  # template filling: fixed JSON evaluated, not sampled
    redraws: int = 0  # template filling: utterances drawn again (empty or repeated) with their prefix kept
    generation_seconds: float = 0.0
    wall_seconds: float = 0.0
    label_counts: Counter = field(default_factory=Counter)
    distinct_2: float = 0.0
    judged_turns: int = 0  # best-of-n: accepted turns the judge scored, the candidates they were chosen from,
    candidates: int = 0  # and how many of them it reads as their planned label
    judge_agreed: int = 0
    selected_by: str | None = None
    interrupted: bool = False  # stopped (Ctrl-C, SIGINT) before every requested dialogue was done

    def add_judged(self, judge: dict[str, Any] | None) -> None:
        """Count the judge's record of an accepted dialogue (``metadata["judge"]``), if any."""
        if judge:
            self.selected_by = judge["selected_by"]
            self.judged_turns += len(judge["scores"])
            self.candidates += sum(judge["candidates"])
            self.judge_agreed += sum(judge["agree"])

    def to_dict(self) -> dict[str, Any]:
        """The counts with derived rates (accepted fraction, dialogues/hour, tokens/s), JSON-ready."""
        done = self.accepted + self.rejected
        return {
            "requested": self.requested,
            "already_done": self.already_done,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "replacements": self.replacements,
            "accepted_fraction": round(self.accepted / done, 4) if done else None,
            "attempts": self.attempts,
            "cached_responses": self.cached_responses,
            "replayed_rejections": self.replayed_rejections,
            "rejections_by_reason": dict(self.rejections_by_reason),
            "final_rejections_by_reason": dict(self.final_rejections_by_reason),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "forced_tokens": self.forced_tokens,
            "redraws": self.redraws,
            "generation_seconds": round(self.generation_seconds, 2),
            "wall_seconds": round(self.wall_seconds, 2),
            "dialogues_per_hour": round(3600 * self.accepted / self.wall_seconds, 1) if self.wall_seconds else None,
            # per wall-clock second: dialogues decoded in parallel overlap in their own times
            "generated_tokens_per_s": round(self.completion_tokens / self.wall_seconds, 2)
            if self.wall_seconds
            else None,
            "label_counts": dict(self.label_counts),
            "distinct_2": round(self.distinct_2, 4),
            "selected_by": self.selected_by,
            "candidates_per_kept_turn": round(self.candidates / self.judged_turns, 3) if self.judged_turns else None,
            # the selecting judge's own reading: not evidence of fidelity (grade with another judge, ``verify``)
            "selecting_judge_agreement": round(self.judge_agreed / self.judged_turns, 4) if self.judged_turns else None,
            "interrupted": self.interrupted,
        }

    def lines(self) -> list[str]:
        """The summary as the lines ``emosynth generate`` prints."""
        d = self.to_dict()
        out = [
            f"accepted {d['accepted']}, rejected {d['rejected']} (of {d['requested']} requested; "
            f"{d['already_done']} were already done; {d['replacements']} added in place of given-up ones), "
            f"{d['attempts']} attempts, {d['cached_responses']} from cache",
            f"rejected attempts by reason: {d['rejections_by_reason'] or 'none'}; "
            f"{d['replayed_rejections']} cached failures replayed",
            f"rejected dialogues by last reason: {d['final_rejections_by_reason'] or 'none'}",
            f"tokens: {d['prompt_tokens']} prompt, {d['completion_tokens']} generated, {d['forced_tokens']} filled in; "
            f"{d['redraws']} utterances drawn again; "
            f"{d['generated_tokens_per_s']} generated tokens/s; {d['dialogues_per_hour']} dialogues/hour",
            f"labels: {d['label_counts']}; distinct-2 over accepted turns: {d['distinct_2']}",
        ]
        if d["selected_by"]:
            out.append(
                f"turns chosen by {d['selected_by']}: {d['candidates_per_kept_turn']} candidates per kept turn; it "
                f"reads {d['selecting_judge_agreement']} of them as planned (its own choice: grade with another judge)"
            )
        return out


def save_summary(path: Path, summary: RunSummary, dialogues: list[Dialogue]) -> dict[str, Any]:
    """Write ``path`` (``<out>.summary.json``): this invocation's counts at the top, every invocation into the output
    so far (``invocations``, oldest first; an unreadable earlier file starts the list anew) and what the whole output
    holds (``whole_file``: dialogues, turns, the judge's cost and reading over all of them, wall time summed). An
    invocation that found the output complete (no attempt) adds nothing: the last one that worked stays on top."""
    this = summary.to_dict()
    before: list = []
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            before = old.get("invocations") or [{k: v for k, v in old.items() if k != "whole_file"}]
        except (OSError, ValueError, AttributeError):
            before = []
    if before and not summary.attempts:
        this = before[-1]
        before = before[:-1]
    invocations = [*before, this]
    whole = RunSummary()
    for d in dialogues:
        whole.add_judged(d.metadata.get("judge"))
    judged = whole.to_dict()
    seconds = sum(i.get("wall_seconds") or 0 for i in invocations)
    record = this | {
        "invocations": invocations,
        "whole_file": {
            "dialogues": len(dialogues),
            "turns": sum(len(d.turns) for d in dialogues),
            "candidates_per_kept_turn": judged["candidates_per_kept_turn"],
            "selecting_judge_agreement": judged["selecting_judge_agreement"],
            "wall_seconds": round(seconds, 2),
            "dialogues_per_hour": round(3600 * len(dialogues) / seconds, 1) if seconds else None,
        },
    }
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def write_summary(out: Path, summary: RunSummary) -> None:
    """Save ``summary`` beside the dialogues in ``out``, with what the whole file now holds."""
    dialogues = read_dialogues(out) if out.exists() else []
    summary.distinct_2 = distinct_n([t.text for d in dialogues for t in d.turns], 2)
    save_summary(sidecar(out, "summary.json"), summary, dialogues)


def progress_bar(total: int, initial: int, enabled: bool, unit: str = "dlg", desc: str | None = None):
    """A tqdm bar over dialogues, or other ``unit``s (disabled with ``--no-progress``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc, disable=not enabled, dynamic_ncols=True)


def show_rates(bar, summary: RunSummary, start: float) -> None:
    """Dialogues/s, tokens/s and rejections so far, on the bar."""
    elapsed = max(time.perf_counter() - start, 1e-9)
    bar.set_postfix(
        dlg_s=f"{(summary.accepted + summary.rejected) / elapsed:.3f}",
        tok_s=f"{summary.completion_tokens / elapsed:.1f}",
        rejected=summary.rejected,
    )
