"""Answers to and from the annotation tools people already use.

- Label Studio: a JSON list of tasks, ``data`` = {text, speaker, dialogue so far or context}, the assigned labels in
  the task's ``meta`` (hidden from annotators), each answer an ``annotations`` entry with a ``choices`` result for
  ``emotion`` and one for ``flags``. ``label_studio_config`` is the matching labeling interface (XML). Import reads
  Label Studio's JSON export; ``completed_by`` (an id, an email or a user object) names the annotator.
- Argilla (v2 records as ``Record.to_dict`` writes them): ``fields`` {text, context}, ``metadata`` with the item key
  and assigned labels, ``responses`` {"emotion": [{value, user_id}], "flags": [...]}.

Import matches tasks/records to the queue by item key and checks every label against the taxonomy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from emosynth.data.io import write_atomic
from emosynth.errors import ConfigError
from emosynth.review.items import Item, Queue
from emosynth.review.store import Answer

FORMATS = ("label-studio", "argilla")
FLAGS = {"incoherent": "incoherent", "names its own emotion": "names_emotion"}


def _shown(item: Item) -> str:
    """The dialogue so far (or the context) as plain text."""
    if item.context:
        return item.context
    return "\n".join(f"{speaker}: {text}" for speaker, text in item.earlier)


def label_studio_config(queue: Queue) -> str:
    """The Label Studio labeling interface that matches ``export``'s tasks."""
    choices = "\n".join(f"    <Choice value={quoteattr(lab)}/>" for lab in queue.taxonomy.labels)
    flags = "\n".join(f"    <Choice value={quoteattr(f)}/>" for f in FLAGS)
    return f"""<View>
  <Text name="before" value="$before"/>
  <Header value="$speaker"/>
  <Text name="text" value="$text"/>
  <Choices name="emotion" toName="text" choice="single" required="true">
{choices}
  </Choices>
  <Choices name="flags" toName="text" choice="multiple">
{flags}
  </Choices>
</View>
"""


def _flag_names(answer: Answer) -> list[str]:
    return [shown for shown, attr in FLAGS.items() if getattr(answer, attr)]


def _label_studio(queue: Queue, by_item: dict[str, list[Answer]]) -> list[dict[str, Any]]:
    tasks = []
    for item in queue.items:
        annotations = []
        for a in by_item.get(item.key, []):
            result = [
                {"from_name": "emotion", "to_name": "text", "type": "choices", "value": {"choices": [a.perceived]}}
            ]
            if flags := _flag_names(a):
                result.append({"from_name": "flags", "to_name": "text", "type": "choices", "value": {"choices": flags}})
            annotations.append({"completed_by": {"email": a.annotator}, "created_at": a.answered_at, "result": result})
        data = {"item": item.key, "speaker": item.speaker or "", "text": item.text, "before": _shown(item)}
        tasks.append({"data": data, "meta": {"assigned": list(item.assigned)}, "annotations": annotations})
    return tasks


def _argilla(queue: Queue, by_item: dict[str, list[Answer]]) -> list[dict[str, Any]]:
    records = []
    for item in queue.items:
        answers = by_item.get(item.key, [])
        responses = {
            "emotion": [{"value": a.perceived, "user_id": a.annotator} for a in answers],
            "flags": [{"value": _flag_names(a), "user_id": a.annotator} for a in answers if _flag_names(a)],
        }
        records.append(
            {
                "id": item.key,
                "fields": {"text": item.text, "speaker": item.speaker or "", "context": _shown(item)},
                "metadata": {"item": item.key, "assigned": list(item.assigned)},
                "responses": {k: v for k, v in responses.items() if v},
                "suggestions": {},
                "vectors": {},
                "status": "completed" if answers else "pending",
            }
        )
    return records


def export_answers(queue: Queue, answers: list[Answer], fmt: str, out: str | Path) -> int:
    """Write the queue with its answers in ``fmt``; returns the number of tasks/records written."""
    by_item: dict[str, list[Answer]] = {}
    for a in answers:
        by_item.setdefault(a.item, []).append(a)
    if fmt == "label-studio":
        rows = _label_studio(queue, by_item)
        write_atomic(Path(out).with_suffix(".label_config.xml"), label_studio_config(queue))
    elif fmt == "argilla":
        rows = _argilla(queue, by_item)
    else:
        raise ConfigError(f"unknown export format '{fmt}'; expected one of: {', '.join(FORMATS)}")
    write_atomic(out, json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    return len(rows)


def _annotator(completed_by: Any) -> str:
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("username") or completed_by.get("id"))
    return f"label-studio-{completed_by}" if isinstance(completed_by, int) else str(completed_by)


def _read_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(f"{path}: expected a JSON list of tasks/records")
    return rows


def _answer(queue: Queue, key: str, person: str, label: Any, flags: list, origin: str, where: str) -> Answer:
    item = queue.find(key)
    if not isinstance(label, str):
        raise ConfigError(f"{where}: expected one emotion label, got {label!r}")
    perceived = queue.taxonomy.check(label, where)
    unknown = [f for f in flags if f not in FLAGS]
    if unknown:
        raise ConfigError(f"{where}: unknown flag {unknown[0]!r}; expected: {', '.join(FLAGS)}")
    marks = {FLAGS[f]: True for f in flags}
    return Answer(person, key, perceived, item.assigned, item.text, origin=origin, **marks)


def _label_studio_answers(row: dict[str, Any]) -> list[tuple[str, Any, list]]:
    out = []
    for ann in row.get("annotations") or []:
        if ann.get("was_cancelled"):
            continue
        chosen = {r.get("from_name"): (r.get("value") or {}).get("choices") or [] for r in ann.get("result", [])}
        if emotion := chosen.get("emotion"):
            out.append(
                (
                    _annotator(ann.get("completed_by")),
                    emotion[0] if len(emotion) == 1 else emotion,
                    chosen.get("flags", []),
                )
            )
    return out


def _argilla_answers(row: dict[str, Any]) -> list[tuple[str, Any, list]]:
    responses = row.get("responses") or {}
    flags = {r.get("user_id"): r.get("value") or [] for r in responses.get("flags", [])}
    return [
        (str(r.get("user_id")), r.get("value"), flags.get(r.get("user_id"), [])) for r in responses.get("emotion", [])
    ]


def import_answers(queue: Queue, path: str | Path, fmt: str) -> list[Answer]:
    """Answers read from a Label Studio export or Argilla records, checked against the queue and the taxonomy."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown import format '{fmt}'; expected one of: {', '.join(FORMATS)}")
    path = Path(path)
    out = []
    for n, row in enumerate(_read_json_list(path)):
        if fmt == "label-studio":
            where, key, given = f"{path}: task {n}", (row.get("data") or {}).get("item"), _label_studio_answers(row)
        else:
            where, given = f"{path}: record {n}", _argilla_answers(row)
            key = (row.get("metadata") or {}).get("item") or row.get("id")
        if key is None:
            raise ConfigError(
                f"{where}: no item key (data.item / metadata.item); was it exported by `emosynth review`?"
            )
        out.extend(_answer(queue, key, person, label, flags, fmt, where) for person, label, flags in given)
    return out
