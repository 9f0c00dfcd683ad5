"""Commonsense knowledge for TODKAT from the LLM backends: for each utterance of a dataset, short inferences in the
ATOMIC relation types (``records.ATOMIC_RELATIONS``: xIntent, xReact, xWant, oReact, xEffect), one utterance per call
by default, template-filled (the JSON around the inferences is known, and the "to" that xIntent and xWant open with
in ATOMIC), cached and resumable. Each utterance is read on its own, as COMET reads an event: several in one reply
copied inferences from line to line (``benchmarks/results/knowledge_prompt.json``).

The output is a knowledge file, JSONL of ``{"text", "speaker", "relations": {relation: inference}}`` (one line per
distinct utterance, its words and punctuation case-folded (``data.knowledge.knowledge_key``), appended as calls
finish, empty ``relations`` where the reply had none for it; a rerun skips the lines that have inferences and asks
again, with another seed, for those without, up to ``RETRIES`` times), read
by ``data.knowledge.read_knowledge``;
an ATOMIC or COMET export written in the same shape can be used instead. A summary beside it
(``<out>.summary.json``) counts, per invocation and in sum, utterances covered, LLM calls, generated tokens and
seconds (``benchmarks/knowledge_pass.py`` reads it).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from pathlib import Path
from typing import Any

from emosynth.data.benchmarks import sample_dialogues
from emosynth.data.io import JsonlWriter, iter_jsonl, sidecar, write_atomic
from emosynth.data.knowledge import inferences, knowledge_key
from emosynth.errors import ConfigError
from emosynth.llm.base import ChatRequest, LLMBackend
from emosynth.records import ATOMIC_RELATIONS as RELATIONS
from emosynth.records import Dialogue
from emosynth.synth.parse import InvalidOutput, extract_json
from emosynth.synth.prompts import render_messages
from emosynth.synth.summary import progress_bar
from emosynth.text import normalise

PROMPT = "knowledge.v2"
LEADS = {"xIntent": "to ", "xWant": "to "}  # ATOMIC phrases these "to ...": a purpose, not a feeling
MAX_CHARS = 80
RETRIES = 2  # a line recorded without inferences is asked again by this many reruns, each with another seed


def template(k: int) -> tuple[str, ...]:
    """The fixed text of ``{"1": {"xIntent": "to ...", ...}, ..., "k": {...}}``."""
    parts, opening = [], "{"
    for i in range(1, k + 1):
        for j, relation in enumerate(RELATIONS):
            lead = f'{opening}"{i}": {{"{relation}": "' if j == 0 else f'", "{relation}": "'
            parts.append(lead + LEADS.get(relation, ""))
        opening = '"}, '
    return (*parts, '"}}')


def schema(k: int) -> dict[str, Any]:
    """The JSON schema of the same reply, for backends that cannot fill templates (an xIntent or xWant that does not
    open with "to" is left out when parsed)."""
    item = {
        "type": "object",
        "properties": {r: {"type": "string", "minLength": 1, "maxLength": MAX_CHARS} for r in RELATIONS},
        "required": list(RELATIONS),
        "additionalProperties": False,
    }
    keys = [str(i) for i in range(1, k + 1)]
    return {"type": "object", "properties": dict.fromkeys(keys, item), "required": keys, "additionalProperties": False}


def request(lines: list[tuple[str, str]], seed: int, fills: bool) -> ChatRequest:
    """One call: the inferences for ``lines`` ((speaker, text) pairs)."""
    shape = json.dumps({"1": {r: LEADS.get(r, "") + "..." for r in RELATIONS}, "...": "..."})
    return ChatRequest(
        messages=render_messages(PROMPT, lines=lines, shape=shape),
        temperature=0.3,
        max_tokens=len(lines) * len(RELATIONS) * 16 + 16,
        seed=seed,
        json_schema=schema(len(lines)),
        template=template(len(lines)) if fills else None,
        hole_max_chars=MAX_CHARS if fills else None,
        hole_repeats=True,  # short inferences ("happy", "to help") repeat across lines
    )


def parse(text: str, k: int) -> list[dict[str, str]]:
    """Per line, its relations (empty, "none", over-long inferences and an xIntent or xWant not phrased "to ..." left
    out); ``InvalidOutput`` when nothing is usable."""
    value = extract_json(text)
    if not isinstance(value, dict):
        raise InvalidOutput("schema", "expected an object of numbered lines")
    out = []
    for i in range(1, k + 1):
        item = value.get(str(i))
        item = item if isinstance(item, dict) else {}
        said = inferences({r: v for r, v in item.items() if isinstance(v, str)})
        out.append({r: t for r, t in said.items() if phrased(r, t)})
    if not any(out):
        raise InvalidOutput("empty", f"no inference in {text[:60]!r}")
    return out


def phrased(relation: str, text: str) -> bool:
    """Whether an inference is as the template asks: at most ``MAX_CHARS`` after its lead, and opening with it."""
    lead = LEADS.get(relation, "")
    return text.startswith(lead) and len(text) <= MAX_CHARS + len(lead)


def utterances(dialogues: list[Dialogue], limit: int | None = None, seed: int = 0) -> list[tuple[str, str]]:
    """The distinct (speaker, text) utterances of ``dialogues`` in order, or of a seeded sample of ``limit`` of them
    (``data.benchmarks.sample_dialogues``)."""
    return merged([(t.speaker, t.text) for d in sample_dialogues(dialogues, limit, seed) for t in d.turns])


def merged(*parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (speaker, text) lines of one or several splits in order, each text once (where it first appears; as
    ``knowledge_key`` folds it), lines without words left out."""
    seen, out = set(), []
    for part in parts:
        for speaker, text in part:
            if normalise(text) and (key := knowledge_key(text)) not in seen:
                seen.add(key)
                out.append((speaker, text))
    return out


def write_knowledge(
    lines: list[tuple[str, str]],
    backend: LLMBackend,
    out: str | Path,
    per_call: int = 1,
    seed: int = 0,
    about: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Inferences for every line not yet in ``out``, ``per_call`` lines per call; returns the summary of this
    invocation (beginning with ``about``: what it was asked for, say, and the backend's options). ``progress``: a
    bar over the lines still to ask, with utterances per hour. The summary file
    beside ``out`` keeps every invocation's summary (``runs``, each with the CPU it ran on) and their sums
    (``total``); it is rewritten after every call, so that a killed pass keeps its seconds and calls as well as its
    lines. A line counts as done when it has an inference that says something (``data.knowledge.inferences``, as
    TODKAT reads it)."""
    if per_call < 1:
        raise ConfigError(f"per_call must be at least 1, not {per_call}")
    out, lines = Path(out), merged(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    with JsonlWriter(out) as writer:  # the file is locked from here on: what is read is what is there
        rows = [(knowledge_key(obj.get("text", "")), inferences(obj.get("relations"))) for _, obj in iter_jsonl(out)]
        log = Summaries(sidecar(out, "summary.json"), fresh=not rows)
        if rows and (other := next((r["prompt"] for r in log.runs if r.get("prompt", PROMPT) != PROMPT), None)):
            raise ConfigError(
                f"{out} holds knowledge asked for with the prompt {other}; this pass asks with {PROMPT}: "
                "write to a new file (or move this one away)"
            )
        done = {key for key, found in rows if found}
        empty = Counter(key for key, found in rows if not found)
        todo = [line for line in lines if (key := knowledge_key(line[1])) not in done and empty[key] <= RETRIES]
        chunks = [todo[i : i + per_call] for i in range(0, len(todo), per_call)]
        # a retried line gets another seed: the same chunk with the same seed would replay its cached failure
        attempts = [max(empty[knowledge_key(text)] for _, text in chunk) for chunk in chunks]
        requests = [
            request(c, seed + k + 100_003 * a, backend.fills_templates)
            for k, (c, a) in enumerate(zip(chunks, attempts))
        ]
        summary = {
            **(about or {}),
            "utterances": len(lines),
            "covered": len({knowledge_key(t) for _, t in lines} & done),  # then counted up as lines get inferences
            "new": 0,
            "failed": 0,
            "retried": sum(1 for _, text in todo if empty[knowledge_key(text)]),
            "llm_calls": 0,
            "per_call": per_call,
            "generated_tokens": 0,
            "seconds": 0.0,
            "finished": False,
            "backend": backend.identity(),
            "prompt": PROMPT,
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
        }
        start = time.perf_counter()
        bar = progress_bar(len(todo), 0, progress and bool(todo), unit="utt", desc="knowledge")
        try:
            for k, completion in backend.complete_many(requests):
                summary["llm_calls"] += not completion.cached
                summary["generated_tokens"] += 0 if completion.cached else completion.completion_tokens
                try:
                    found = parse(completion.text, len(chunks[k]))
                except InvalidOutput:
                    found = [{}] * len(chunks[k])
                for (speaker, text), relations in zip(chunks[k], found):
                    summary["new" if relations else "failed"] += 1  # without inferences: a rerun asks again
                    writer.write({"text": text, "speaker": speaker, "relations": relations})
                summary["covered"] += sum(map(bool, found))
                seconds = time.perf_counter() - start
                log.save(summary | {"seconds": round(seconds, 2)})
                bar.update(len(chunks[k]))
                bar.set_postfix(utt_h=f"{(summary['new'] + summary['failed']) * 3600 / max(seconds, 1e-9):.0f}")
            summary["finished"] = True
        finally:
            bar.close()
            summary["seconds"] = round(time.perf_counter() - start, 2)
            log.save(summary)
    return summary


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows: rates differ between hosts."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return platform.processor()


class Summaries:
    """The summary file of a knowledge file: every invocation's summary (the last one updated in place while it
    runs) and their sums. A summary written before invocations were kept counts as one."""

    SUMS = ("new", "failed", "llm_calls", "generated_tokens", "seconds")

    def __init__(self, path: Path, fresh: bool = False):
        self.path = path  # fresh: the knowledge file is new (or was deleted), and so are its invocations
        old = json.loads(path.read_text()) if path.is_file() and not fresh else None
        self.runs = [] if old is None else old.get("runs", [old])
        self.before = len(self.runs)  # this invocation's summary follows them

    def save(self, summary: dict[str, Any]) -> None:
        self.runs[self.before :] = [dict(summary)]
        total = {key: round(sum(r.get(key, 0) for r in self.runs), 2) for key in self.SUMS}
        write_atomic(self.path, json.dumps({"runs": self.runs, "total": total}, indent=1) + "\n")
