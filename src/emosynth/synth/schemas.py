"""JSON schemas of a dialogue reply: fixed speakers and emotions (planned labelling) or free numbered labels."""

from __future__ import annotations

import json
from typing import Any

from emosynth.synth.specs import DialogueSpec


def planned_schema(spec: DialogueSpec, max_chars: int) -> dict[str, Any]:
    """Every turn's speaker and emotion are constants; the utterance is the only free text, written last."""

    def turn(plan) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "speaker": {"const": plan.speaker},
                "emotion": {"const": plan.emotion},
                "utterance": {"type": "string", "minLength": 2, "maxLength": max_chars},
            },
            "required": ["speaker", "emotion", "utterance"],
            "additionalProperties": False,
        }

    n = len(spec.plan)
    items = {"type": "array", "prefixItems": [turn(p) for p in spec.plan], "minItems": n, "maxItems": n}
    return {
        "type": "object",
        "properties": {"turns": items},
        "required": ["turns"],
        "additionalProperties": False,
    }


def planned_template(spec: DialogueSpec) -> tuple[str, ...]:
    """The fixed text of a planned reply around its utterances: the JSON that ``planned_schema`` describes."""

    def opening(plan) -> str:
        speaker, emotion = (json.dumps(v, ensure_ascii=False) for v in (plan.speaker, plan.emotion))
        return f'{{"speaker": {speaker}, "emotion": {emotion}, "utterance": "'

    parts = ['{"turns": [' + opening(spec.plan[0])]
    parts += ['"}, ' + opening(p) for p in spec.plan[1:]]
    return (*parts, '"}]}')


def labelled_schema(spec: DialogueSpec, n_labels: int, turns: tuple[int, int], max_chars: int) -> dict[str, Any]:
    """Free turns: speaker from the cast, utterance, label as one of the numbered symbols."""
    turn = {
        "type": "object",
        "properties": {
            "speaker": {"enum": spec.speakers},
            "utterance": {"type": "string", "minLength": 2, "maxLength": max_chars},
            "label": {"enum": list(range(n_labels))},
        },
        "required": ["speaker", "utterance", "label"],
        "additionalProperties": False,
    }
    items = {"type": "array", "items": turn, "minItems": turns[0], "maxItems": turns[1]}
    return {
        "type": "object",
        "properties": {"turns": items},
        "required": ["turns"],
        "additionalProperties": False,
    }
