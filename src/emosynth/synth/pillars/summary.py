"""What an Emo Pillars run did, per stage: calls, drops by reason, tokens, examples (``pillars.summary.json``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from emosynth.llm.base import Completion

STAGES = ("characters", "utterances", "context", "rating")  # rating: an LLM rater's calls


@dataclass
class StageCount:
    """One stage's LLM calls and what became of them."""

    calls: int = 0  # answered requests (cached ones included)
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    forced_tokens: int = 0
    seconds: float = 0.0
    rejected_attempts: Counter = field(default_factory=Counter)  # reason -> attempts that failed with it
    failed: Counter = field(default_factory=Counter)  # reason -> items given up after the last attempt

    def add(self, completion: Completion) -> None:
        """Count one answered request (the tokens and time of those made by this run only, not cached ones)."""
        self.calls += 1
        if completion.cached:
            self.cached += 1
            return
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.forced_tokens += completion.extra.get("forced_tokens", 0)
        self.seconds += completion.seconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        return {
            "calls": self.calls,
            "cached": self.cached,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "forced_tokens": self.forced_tokens,
            "seconds": round(self.seconds, 2),
            "rejected_attempts": dict(self.rejected_attempts),
            "failed": dict(self.failed),
        }


@dataclass
class PillarsSummary:
    """Counts of a run: this invocation's calls and tokens, the whole output's examples; the rates (calls, tokens
    and time per example) divide this invocation's work by the examples it added."""

    requested: int = 0
    passages_read: int = 0
    passages_without_characters: int = 0
    stages: dict[str, StageCount] = field(default_factory=lambda: {s: StageCount() for s in STAGES})
    dropped_utterances: Counter = field(default_factory=Counter)  # reason -> items dropped inside a kept reply
    dropped_examples: Counter = field(default_factory=Counter)  # reason -> context-less examples filtered out
    dropped_contextual: Counter = field(default_factory=Counter)  # reason -> accepted utterances lost with context
    dropped_contexts: Counter = field(default_factory=Counter)  # reason -> contexts dropped inside kept replies
    out_of_taxonomy: Counter = field(default_factory=Counter)  # rater label with no equivalent -> times scored
    rater: str | None = None
    contextless: int = 0
    contextual: int = 0
    contextless_new: int = 0  # from utterance calls this invocation made (a resumed or re-rating run: only those)
    contextual_new: int = 0  # with contexts this invocation wrote
    label_counts: Counter = field(default_factory=Counter)
    written: Counter = field(default_factory=Counter)  # target -> utterances written for it (the whole output)
    accepted: Counter = field(default_factory=Counter)  # target -> context-less examples accepted for it
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The counts with derived rates (calls and tokens per accepted example, examples/hour), JSON-ready."""
        calls = sum(s.calls - s.cached for s in self.stages.values())
        tokens = sum(s.completion_tokens for s in self.stages.values())
        examples = self.contextless_new + self.contextual_new  # the paper's 700K calls / 400K examples counts both
        return {
            "requested": self.requested,
            "passages_read": self.passages_read,
            "passages_without_characters": self.passages_without_characters,
            "stages": {name: s.to_dict() for name, s in self.stages.items()},
            "dropped_utterances": dict(self.dropped_utterances),
            "dropped_examples": dict(self.dropped_examples),
            "dropped_contextual": dict(self.dropped_contextual),
            "dropped_contexts": dict(self.dropped_contexts),
            "rater": self.rater,
            "out_of_taxonomy": dict(self.out_of_taxonomy),
            "contextless_examples": self.contextless,
            "contextual_examples": self.contextual,
            "new_contextless_examples": self.contextless_new,
            "new_contextual_examples": self.contextual_new,
            "llm_calls": calls,
            "calls_per_accepted_example": round(calls / examples, 3) if examples and calls else None,
            "generated_tokens_per_accepted_example": round(tokens / examples, 1) if examples and tokens else None,
            "examples_per_hour": round(3600 * examples / self.wall_seconds, 1) if self.wall_seconds else None,
            "wall_seconds": round(self.wall_seconds, 2),
            "label_counts": dict(self.label_counts),
            # per target emotion: utterances written, examples accepted (the rater's confirmation decides the mix)
            "targets": {t: {"written": n, "accepted": self.accepted[t]} for t, n in sorted(self.written.items())},
        }

    def lines(self) -> list[str]:
        """The summary as ``emosynth generate pillars`` prints it."""
        d = self.to_dict()
        out = [
            f"{d['contextless_examples']} context-less and {d['contextual_examples']} contextual examples "
            f"({d['requested']} requested); {d['passages_read']} passages read, "
            f"{d['passages_without_characters']} without characters",
        ]
        for name, s in d["stages"].items():
            out.append(
                f"{name}: {s['calls']} calls ({s['cached']} from cache), {s['completion_tokens']} tokens generated; "
                f"rejected attempts {s['rejected_attempts'] or 'none'}; given up {s['failed'] or 'none'}"
            )
        out.append(
            f"rater: {d['rater'] or 'none (labels: the target only)'}; examples dropped: "
            f"{d['dropped_examples'] or 'none'}; out-of-taxonomy rater labels: {d['out_of_taxonomy'] or 'none'}"
        )
        out.append(
            f"dropped inside kept replies: utterances {d['dropped_utterances'] or 'none'}, contexts "
            f"{d['dropped_contexts'] or 'none'}; "
            f"{d['calls_per_accepted_example']} LLM calls and {d['generated_tokens_per_accepted_example']} generated "
            f"tokens per accepted example (both kinds); {d['examples_per_hour']} examples/hour"
        )
        if self.written:
            rate = sorted(self.written, key=lambda t: (self.accepted[t] / self.written[t], t))
            out.append(
                "targets least often accepted: "
                + ", ".join(f"{t} {self.accepted[t]}/{self.written[t]}" for t in rate[:5])
            )
        return out
