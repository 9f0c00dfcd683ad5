"""TODKAT's knowledge pass: the template, the parser, and a real run with SmolLM2 that resumes."""

import json
import subprocess
import sys

import pytest

from emosynth.data.io import iter_jsonl, sidecar, write_jsonl
from emosynth.data.knowledge import read_knowledge
from emosynth.errors import ConfigError
from emosynth.llm.base import Completion, LLMBackend
from emosynth.records import ATOMIC_RELATIONS, Dialogue, Turn
from emosynth.synth import knowledge


def test_the_template_is_the_reply_the_parser_reads():
    parts = knowledge.template(2)
    assert len(parts) == 2 * len(ATOMIC_RELATIONS) + 1
    filled = parts[0] + "".join(f"thing {i}" + p for i, p in enumerate(parts[1:]))
    reply = json.loads(filled)
    assert list(reply) == ["1", "2"] and list(reply["2"]) == list(ATOMIC_RELATIONS)
    found = knowledge.parse(filled, 2)
    assert found[0]["xIntent"] == "to thing 0" and found[0]["xReact"] == "thing 1"  # the template says "to ..."
    assert found[1]["xEffect"] == f"thing {2 * len(ATOMIC_RELATIONS) - 1}" and found[1]["xWant"] == "to thing 7"
    # an empty or over-long inference is left out, and so is an xIntent or xWant not phrased "to ..." (a schema
    # reply, where nothing forced it); a line the reply does not have gets none
    reply = {"1": {"xIntent": "", "xReact": "glad", "xWant": "to " + "x" * 200}, "2": {"xIntent": "anger"}}
    assert knowledge.parse(json.dumps(reply), 3) == [{"xReact": "glad"}, {}, {}]
    assert knowledge.parse(json.dumps({"1": {"xIntent": "to thank him", "xWant": "to leave"}}), 1) == [
        {"xIntent": "to thank him", "xWant": "to leave"}
    ]


def test_utterances_are_distinct_and_a_sample_is_seeded():
    ds = [Dialogue(f"d{k}", [Turn("A", "Hi!", "joy"), Turn("B", f"line {k}", "neutral")], "meld") for k in range(6)]
    lines = knowledge.utterances(ds)
    assert lines[:3] == [("A", "Hi!"), ("B", "line 0"), ("B", "line 1")] and len(lines) == 7
    assert knowledge.utterances(ds, 2, seed=1) == knowledge.utterances(ds, 2, seed=1) != knowledge.utterances(ds, 2)


def test_a_real_model_writes_knowledge_that_todkat_reads_and_a_rerun_asks_nothing(smollm, tmp_path):
    lines = [("Ana", "I finally got the job!"), ("Ben", "You lost my keys again?"), ("Ana", "Let's eat.")]
    out = tmp_path / "k.jsonl"
    summary = knowledge.write_knowledge(lines, smollm, out, per_call=2)
    assert summary["llm_calls"] == 2 and summary["utterances"] == 3
    rows = [obj for _, obj in iter_jsonl(out)]
    assert sorted(r["text"] for r in rows) == sorted(t for _, t in lines)  # in the order the calls finished
    assert summary["covered"] == sum(bool(r["relations"]) for r in rows) >= 1  # seeded: SmolLM2 fills some
    assert all(set(r["relations"]) <= set(ATOMIC_RELATIONS) for r in rows)
    read = read_knowledge(out)
    assert set(read) == {"i finally got the job !", "you lost my keys again ?", "let's eat ."}
    again = knowledge.write_knowledge(lines, smollm, out, per_call=2)
    bare = 3 - summary["covered"]  # only the lines without inferences are asked again
    assert again["retried"] == bare and again["llm_calls"] == (bare + 1) // 2 and len(list(iter_jsonl(out))) == 3 + bare
    assert again["covered"] == summary["covered"] + again["new"]
    saved = json.loads(sidecar(out, "summary.json").read_text())  # both invocations, and their sums
    assert saved["runs"] == [summary, again] and saved["total"]["llm_calls"] == 2 + again["llm_calls"]


class Answers(LLMBackend):
    """Stands in for the LLM with replies given in advance (the knowledge pass's bookkeeping is under test)."""

    name, model_id = "scripted", "answers"

    def __init__(self, texts):
        self.texts, self.seeds = iter(texts), []

    def complete(self, request):
        self.seeds.append(request.seed)
        return Completion(next(self.texts), "stop", 5, 3, self.model_id)


def test_a_rerun_asks_again_with_another_seed_for_lines_left_without_inferences(tmp_path):
    lines, out = [("A", "We won!"), ("B", "Where were you?"), ("A", "Go.")], tmp_path / "k.jsonl"
    ok = json.dumps({"1": {"xReact": "glad"}, "2": {"xWant": "to know"}})
    backend = Answers([ok, "no json at all", json.dumps({"1": {"xIntent": "to leave"}}), "garbage", "garbage"])
    first = knowledge.write_knowledge(lines, backend, out, per_call=2)
    assert first["covered"] == 2 and first["failed"] == 1 and first["retried"] == 0
    assert read_knowledge(out)["go ."] == {}  # a line without inferences is read as such
    second = knowledge.write_knowledge(lines, backend, out, per_call=2)
    assert second["retried"] == 1 and second["covered"] == 3 and second["llm_calls"] == 1
    assert read_knowledge(out)["go ."] == {"xIntent": "to leave"} and backend.seeds[2] not in backend.seeds[:2]
    assert knowledge.write_knowledge(lines, backend, out)["llm_calls"] == 0  # nothing left to ask
    stuck = tmp_path / "s.jsonl"
    for _ in range(knowledge.RETRIES + 2):  # a line the LLM never answers is given up after RETRIES reruns
        knowledge.write_knowledge([("C", "Hm.")], Answers(["garbage"]), stuck)
    assert sum(1 for _ in iter_jsonl(stuck)) == knowledge.RETRIES + 1


def test_the_progress_bar_counts_the_lines_still_to_ask(tmp_path, capsys):
    lines, out = [("A", "We won!"), ("B", "Where were you?"), ("A", "Go.")], tmp_path / "k.jsonl"
    ok = json.dumps({"1": {"xReact": "glad"}})
    knowledge.write_knowledge(lines[:1], Answers([ok]), out)  # quiet by default
    assert capsys.readouterr().err == ""
    knowledge.write_knowledge(lines, Answers([ok, ok]), out, progress=True)
    bar = capsys.readouterr().err
    assert "2/2" in bar and "utt_h=" in bar  # the line already answered is not counted again


class Killed(Exception):
    pass


class DiesAfter(Answers):
    """Answers ``n`` calls, then the process is killed (raises); keeps the summary file as it was at that moment."""

    def __init__(self, n, summary=None):
        super().__init__([json.dumps({"1": {"xReact": "glad"}})] * n)
        self.summary, self.seen = summary, None

    def complete(self, request):
        try:
            return super().complete(request)
        except StopIteration:
            self.seen = json.loads(self.summary.read_text()) if self.summary else None
            raise Killed from None


def test_a_killed_pass_keeps_its_seconds_and_calls_and_a_rerun_adds_its_own(tmp_path):
    out, calls = tmp_path / "k.jsonl", 5
    lines = [("A", f"line number {i}") for i in range(calls + 5)]
    write_jsonl(out, [{"text": "Old line.", "relations": {"xReact": "calm"}}])
    sidecar(out, "summary.json").write_text(json.dumps({"new": 1, "llm_calls": 2, "seconds": 1.5}))  # an old one
    dies = DiesAfter(calls, sidecar(out, "summary.json"))
    with pytest.raises(Killed):
        knowledge.write_knowledge(lines, dies, out, per_call=1, about={"data": ["meld:dev"]})
    assert sum(1 for _ in iter_jsonl(out)) == 1 + calls  # every line answered is kept
    # saved after every call: what a SIGKILL (no exception, no finally) would have left
    assert dies.seen["runs"][-1]["llm_calls"] == calls and dies.seen["total"]["llm_calls"] == 2 + calls
    old, killed = json.loads(sidecar(out, "summary.json").read_text())["runs"]
    assert old["llm_calls"] == 2 and killed["data"] == ["meld:dev"] and not killed["finished"]
    assert killed["llm_calls"] == killed["new"] == calls and killed["utterances"] == len(lines)
    rerun = knowledge.write_knowledge(lines, DiesAfter(5), out, per_call=1)
    saved = json.loads(sidecar(out, "summary.json").read_text())
    assert rerun["finished"] and rerun["llm_calls"] == 5 and rerun["covered"] == len(lines)
    assert saved["runs"][-1] == rerun and saved["total"]["llm_calls"] == 2 + calls + 5
    out.unlink()  # a knowledge file made again from nothing starts its summary again
    knowledge.write_knowledge(lines[:1], DiesAfter(1), out, per_call=1)
    assert len(json.loads(sidecar(out, "summary.json").read_text())["runs"]) == 1


def test_a_file_asked_with_another_prompt_is_not_added_to(tmp_path):
    out = tmp_path / "k.jsonl"
    write_jsonl(out, [{"text": "We won!", "speaker": "A", "relations": {"xReact": "glad"}}])
    summary = {"runs": [{"prompt": "knowledge.v1", "new": 1}], "total": {"new": 1}}
    sidecar(out, "summary.json").write_text(json.dumps(summary))
    before = out.read_bytes()
    with pytest.raises(
        ConfigError, match=r"k.jsonl holds knowledge asked for with the prompt knowledge.v1; .* new file"
    ):
        knowledge.write_knowledge([("B", "Where were you?")], Answers([]), out)
    assert out.read_bytes() == before and json.loads(sidecar(out, "summary.json").read_text()) == summary


def test_none_is_no_inference_when_written_or_read(tmp_path):
    assert knowledge.parse(json.dumps({"1": {"xReact": "None", "xWant": "to rest"}}), 1) == [{"xWant": "to rest"}]
    out = tmp_path / "k.jsonl"
    write_jsonl(out, [{"text": "Fine.", "relations": {"xReact": "none"}}])  # as an older pass wrote it
    summary = knowledge.write_knowledge([("A", "Fine.")], DiesAfter(1), out, per_call=1)
    assert summary["retried"] == 1 and read_knowledge(out) == {"fine .": {"xReact": "glad"}}


def test_merged_splits_keep_each_text_once_in_order():
    train, dev = [("A", "Hi!"), ("B", "Go away.")], [("C", "HI !"), ("D", "Fine."), ("E", "Hi?"), ("F", "...")]
    # the same words and punctuation, whatever the case and spacing; other punctuation is another utterance
    assert knowledge.merged(train, dev) == [("A", "Hi!"), ("B", "Go away."), ("D", "Fine."), ("E", "Hi?")]


@pytest.mark.slow
def test_cli_knowledge_covers_several_splits_in_one_file(tmp_path):
    splits = []
    for name, texts in (("train", ["I won the race!", "Well done."]), ("test", ["WELL DONE.", "Where is my hat?"])):
        path = tmp_path / f"{name}.jsonl"
        turns = [Turn(s, t, "neutral") for s, t in zip("AB", texts)]
        path.write_text(json.dumps(Dialogue(name, turns, "meld").to_dict()) + "\n")
        splits.append(str(path))
    out = tmp_path / "k.jsonl"
    cmd = [sys.executable, "-m", "emosynth", "knowledge", *splits, "-o", str(out), "--model", "smollm2-135m"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    texts = sorted(obj["text"] for _, obj in iter_jsonl(out))
    assert texts == ["I won the race!", "Well done.", "Where is my hat?"]  # "WELL DONE." of test is the same text
    assert "of 3 utterances have knowledge" in run.stdout and "3/3" in run.stderr  # the bar, on by default
