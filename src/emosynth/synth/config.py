"""The one typed configuration of a dialogue-generation run (saved beside every output)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emosynth.errors import ConfigError, validated

PRESETS = {
    # Kaplan, Carneiro, Wermter 2025: the model labels its own turns with numbered symbols; no cues, no examples.
    "paper": {"labelling": "llm", "cues": False, "few_shot": 0},
    # What we measured to keep labels faithful with a small model: planned emotions with per-turn cues.
    "default": {"labelling": "planned", "cues": True, "few_shot": 0},
}
# Fields that change what a dialogue looks like: resuming into an output made with other values is refused.
IDENTITY_FIELDS = (
    "taxonomy",
    "mode",
    "labelling",
    "seed",
    "min_turns",
    "max_turns",
    "min_speakers",
    "max_speakers",
    "cues",
    "few_shot",
    "prompt_version",
    "temperature",
    "top_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "cue_file",
    "scenario_file",
    "transitions_file",
    "tokens_per_turn",
    "max_tokens",
    "retry_feedback",
    "decoding",
    "best_of",
    "judge",
    "min_judge_score",
    "judge_rounds",
    "opener_cap",
)
# what outputs written before a setting existed were made with
LEGACY = {
    "decoding": "schema",
    "best_of": 1,
    "judge": None,
    "min_judge_score": 0.0,
    "judge_rounds": 1,
    "opener_cap": None,
    "cues_version": 2,
}


SAMPLING_FIELDS = ("temperature", "top_p", "repeat_penalty", "presence_penalty", "frequency_penalty")


class DialogueConfig(BaseModel):
    """Settings of ``emosynth generate dialogues``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    taxonomy: str = "meld"
    mode: Literal["natural", "balanced"] = "balanced"
    labelling: Literal["planned", "llm"] = "planned"  # who decides each turn's emotion: the plan or the LLM
    # planned replies: fill the known JSON around the utterances (llm.fill) or sample it all under a JSON schema
    decoding: Literal["template", "schema"] = "template"
    n: int = Field(50, ge=1)
    seed: int = 0
    min_turns: int = Field(4, ge=2)
    max_turns: int = Field(12, ge=2, le=40)
    min_speakers: int = Field(2, ge=2)
    max_speakers: int = Field(4, ge=2, le=10)
    cues: bool = True
    few_shot: int = Field(0, ge=0, le=5)
    max_attempts: int = Field(5, ge=1, le=20)
    # a dialogue given up after max_attempts is replaced by a new one so that n are kept (DialogueSynthesizer)
    replace_given_up: bool = False
    retry_feedback: bool = True
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0)
    presence_penalty: float = Field(0.3, ge=-2.0, le=2.0)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    tokens_per_turn: int = Field(80, ge=20, le=400)
    max_tokens: int | None = Field(None, ge=8, description="cap per request; default tokens_per_turn*turns+40")
    prompt_version: str | None = None
    cue_file: str | None = None
    scenario_file: str | None = None
    transitions_file: str | None = None
    # best-of-n (planned labelling, template decoding): candidates per turn, the classifier that chooses among them
    # (it scores every kept turn even with best_of 1), and the score below which a kept turn rejects its dialogue;
    # a turn below it first gets more rounds of best_of candidates, up to judge_rounds rounds in all
    best_of: int = Field(1, ge=1, le=16)
    judge: str | None = None
    min_judge_score: float = Field(0.0, ge=0.0, le=1.0)
    judge_rounds: int = Field(2, ge=1, le=8)
    # the judge marks down a candidate whose first word would then open more than opener_cap times the real
    # benchmark's top-opener share of its label's kept turns (the stereotype target of issue 14 is 2)
    opener_cap: float | None = Field(None, gt=0.0, le=10.0)

    @model_validator(mode="before")
    @classmethod
    def _decoding(cls, values: Any) -> Any:
        # the llm strategy's reply has no fixed skeleton to fill: it is always sampled under its JSON schema
        if isinstance(values, dict) and values.get("labelling") == "llm":
            if values.get("decoding", "schema") != "schema":
                raise ValueError("decoding 'template' needs planned labelling (the llm strategy's JSON is free)")
            values = values | {"decoding": "schema"}
        return values

    @model_validator(mode="after")
    def _ranges(self) -> DialogueConfig:
        if self.min_turns > self.max_turns:
            raise ValueError(f"min_turns ({self.min_turns}) is larger than max_turns ({self.max_turns})")
        if self.min_speakers > self.max_speakers:
            raise ValueError(f"min_speakers ({self.min_speakers}) is larger than max_speakers ({self.max_speakers})")
        if self.best_of > 1 and not self.judge:
            raise ValueError(f"best_of {self.best_of} needs a judge to choose among the candidates")
        if self.opener_cap and not self.judge:
            raise ValueError("opener_cap needs a judge: the judge marks down the crowded openers")
        if self.judge and (self.labelling != "planned" or self.decoding != "template"):
            raise ValueError("a judge chooses turns of planned labelling with template decoding only")
        return self

    @property
    def resolved_prompt_version(self) -> str:
        """The prompt template this run uses (the labelling strategy's, unless set)."""
        return self.prompt_version or ("erc_planned.v1" if self.labelling == "planned" else "erc_llm.v1")

    @classmethod
    def create(cls, preset: str | None = None, **values) -> DialogueConfig:
        """Build from a preset plus explicit values (``None`` values keep the preset's/defaults)."""
        if preset is not None and preset not in PRESETS:
            raise ConfigError(f"Unknown preset '{preset}'; expected one of {', '.join(PRESETS)}")
        merged = dict(PRESETS.get(preset or "default", {}))
        merged.update({k: v for k, v in values.items() if v is not None})
        return validated(cls, **merged)
