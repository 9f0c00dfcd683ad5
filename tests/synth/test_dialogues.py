"""The synthesis pipeline end to end with the real small llama.cpp model."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from emosynth.data.io import read_dialogues, sidecar
from emosynth.errors import ConfigError
from emosynth.llm.base import Completion, LLMBackend
from emosynth.llm.cache import CachedBackend, ResponseCache
from emosynth.synth.config import DialogueConfig
from emosynth.synth.dialogues import DialogueSynthesizer, check_output
from emosynth.taxonomy import get_taxonomy

from ..conftest import needs_data

MELD_LABELS = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
FAST = dict(n=3, min_turns=3, max_turns=4, max_speakers=3, tokens_per_turn=60, max_attempts=3)


def test_balanced_planned_run_writes_valid_dialogues_and_summary(smollm, tmp_path):
    out = tmp_path / "b.jsonl"
    summary = DialogueSynthesizer(DialogueConfig.create(mode="balanced", **FAST), smollm).run(out, progress=False)
    dialogues = read_dialogues(out)
    rejected = [json.loads(line) for line in sidecar(out, "rejected.jsonl").read_text().splitlines()]
    assert len(dialogues) + len(rejected) == 3 == summary.accepted + summary.rejected
    assert len(dialogues) == summary.accepted >= 2  # seeded: SmolLM2 gets these right; the loop below checks them
    for d in dialogues:
        assert d.target_emotion in d.emotions and 3 <= len(d.turns) <= 4
        assert d.model == "smollm2-135m" and d.prompt_version == "erc_planned.v1" and d.mode == "balanced"
    for r in rejected:
        assert r["reason"] and len(r["attempts"]) == 3
    saved = json.loads(sidecar(out, "summary.json").read_text())
    assert saved["accepted"] == summary.accepted and saved["completion_tokens"] > 0
    assert summary.attempts == summary.accepted + sum(summary.rejections_by_reason.values())
    assert json.loads(sidecar(out, "config.json").read_text())["mode"] == "balanced"


def test_paper_strategy_with_the_real_model_completes_every_request(smollm, tmp_path):
    out = tmp_path / "p.jsonl"
    cfg = DialogueConfig.create(preset="paper", mode="natural", **FAST)
    summary = DialogueSynthesizer(cfg, smollm).run(out, progress=False)
    assert summary.accepted + summary.rejected == 3 and summary.attempts >= 3
    assert len(read_dialogues(out)) == summary.accepted >= 2  # seeded; the loop below is not vacuous
    for d in read_dialogues(out):
        assert set(d.emotions) <= set(MELD_LABELS) and d.metadata["labelling"] == "llm"


class ScriptedModel(LLMBackend):
    """Stands in for the LLM (not the pipeline under test): replies with numbered labels for the cast."""

    name, model_id = "scripted", "scripted"

    def complete(self, request):
        cast = request.json_schema["properties"]["turns"]["items"]["properties"]["speaker"]["enum"]
        turns = [
            {"speaker": cast[i % len(cast)], "utterance": f"line number {i}", "label": lab}
            for i, lab in enumerate([3, 5, 0])
        ]
        return Completion(json.dumps({"turns": turns}), "stop", 10, 20, self.model_id)


def test_numbered_labels_are_mapped_back_to_names(tmp_path):
    out = tmp_path / "s.jsonl"
    cfg = DialogueConfig.create(preset="paper", mode="balanced", **(FAST | {"n": 7}))
    summary = DialogueSynthesizer(cfg, ScriptedModel()).run(out, progress=False)
    # targets cycle over the 7 labels; the script always says anger, disgust, neutral
    assert summary.accepted == 3 and summary.final_rejections_by_reason == {"missing_target": 4}
    assert {d.target_emotion for d in read_dialogues(out)} == {"neutral", "anger", "disgust"}
    assert all(d.emotions == ["anger", "disgust", "neutral"] for d in read_dialogues(out))


class RepeatsOnce(LLMBackend):
    """Stands in for the LLM: follows the plan, but its first draft of every dialogue repeats a line."""

    name, model_id = "scripted", "repeats-once"

    def __init__(self):
        self.prompts = []

    def complete(self, request):
        self.prompts.append(request.messages[-1]["content"])
        plan = request.json_schema["properties"]["turns"]["prefixItems"]
        first = "rejected:" not in self.prompts[-1]
        turns = [
            {
                "speaker": t["properties"]["speaker"]["const"],
                "emotion": t["properties"]["emotion"]["const"],
                "utterance": "same old line" if first and i > 0 else f"fresh line {i}",
            }
            for i, t in enumerate(plan)
        ]
        return Completion(json.dumps({"turns": turns}), "stop", 10, 20, self.model_id)


@pytest.mark.parametrize("feedback", [True, False])
def test_a_retry_tells_the_model_which_line_it_repeated(tmp_path, feedback):
    llm = RepeatsOnce()
    cfg = DialogueConfig.create(mode="balanced", retry_feedback=feedback, **(FAST | {"n": 2}))
    summary = DialogueSynthesizer(cfg, llm).run(tmp_path / "f.jsonl", progress=False)
    assert summary.rejections_by_reason == {"repeated_utterance": 2 if feedback else 6}
    if feedback:
        assert summary.accepted == 2 and summary.attempts == 4
        assert "rejected: turn 3 repeats an earlier turn: 'same old line'" in llm.prompts[2]
        assert all(d.metadata["attempt"] == 1 for d in read_dialogues(tmp_path / "f.jsonl"))
    else:
        assert summary.accepted == 0 and len({p for p in llm.prompts}) == 2  # retries repeat the prompt


class FailsFirst(LLMBackend):
    """Stands in for the LLM: follows the plan, but its first answer repeats a line (and so fails)."""

    name, model_id = "scripted", "fails-first"

    def __init__(self):
        self.calls = 0

    def complete(self, request):
        self.calls += 1
        plan = request.json_schema["properties"]["turns"]["prefixItems"]
        turns = [
            {
                "speaker": t["properties"]["speaker"]["const"],
                "emotion": t["properties"]["emotion"]["const"],
                "utterance": "same old line" if self.calls == 1 and i else f"line {i} of answer {self.calls}",
            }
            for i, t in enumerate(plan)
        ]
        return Completion(json.dumps({"turns": turns}), "stop", 10, 20, self.model_id)


def test_a_dialogue_given_up_is_replaced_when_asked_and_a_rerun_adds_nothing(tmp_path):
    out = tmp_path / "r.jsonl"
    cfg = DialogueConfig.create(
        mode="natural", retry_feedback=False, replace_given_up=True, **(FAST | {"max_attempts": 1})
    )
    summary = DialogueSynthesizer(cfg, FailsFirst()).run(out, progress=False)
    assert (summary.accepted, summary.rejected, summary.replacements) == (3, 1, 1)
    kept = [d.id[-2:] for d in read_dialogues(out)]
    assert kept == ["01", "02", "03"]  # dialogue 3, the first beyond -n 3, stands in for dialogue 0
    assert json.loads(sidecar(out, "summary.json").read_text())["replacements"] == 1
    again = DialogueSynthesizer(cfg, FailsFirst()).run(out, progress=False)
    assert again.attempts == 0 and again.already_done == 3 and len(read_dialogues(out)) == 3


def test_a_balanced_replacement_asks_for_the_target_given_up_and_stops_at_twice_n(tmp_path):
    out = tmp_path / "s.jsonl"
    cfg = DialogueConfig.create(preset="paper", mode="balanced", replace_given_up=True, **(FAST | {"n": 7}))
    summary = DialogueSynthesizer(cfg, ScriptedModel()).run(out, progress=False)
    # the script always says anger, disgust, neutral: the other 4 targets fail again in dialogues 7-13
    assert (summary.accepted, summary.rejected, summary.replacements) == (3, 8, 4)
    given_up = [json.loads(x) for x in sidecar(out, "rejected.jsonl").read_text().splitlines()]
    labels = get_taxonomy("meld").labels
    replaced = sorted(int(r["id"][-6:]) for r in given_up if int(r["id"][-6:]) >= 7)
    assert replaced == sorted(7 + labels.index(t) for t in ("joy", "surprise", "sadness", "fear"))


def test_a_resumed_run_counts_replayed_failures_apart_from_new_ones(tmp_path):
    cfg = DialogueConfig.create(mode="balanced", retry_feedback=False, **(FAST | {"n": 2}))
    cached = CachedBackend(RepeatsOnce(), ResponseCache(tmp_path / "c.sqlite"))
    first = DialogueSynthesizer(cfg, cached).run(tmp_path / "a.jsonl", progress=False)
    assert first.rejections_by_reason == {"repeated_utterance": 6} and first.completion_tokens == 6 * 20
    # the same requests again (as a resumed run replays the failed attempts of dialogues not yet kept)
    again = DialogueSynthesizer(cfg, cached).run(tmp_path / "b.jsonl", progress=False)
    assert again.attempts == again.cached_responses == again.replayed_rejections == 6
    assert again.rejections_by_reason == {} and again.completion_tokens == again.prompt_tokens == 0
    saved = json.loads(sidecar(tmp_path / "b.jsonl", "summary.json").read_text())
    assert saved["replayed_rejections"] == 6 and saved["generated_tokens_per_s"] == 0


def test_rerun_resumes_from_cache_and_file_without_new_requests(smollm, tmp_path):
    out = tmp_path / "r.jsonl"
    cfg = DialogueConfig.create(mode="natural", **FAST)
    cached = CachedBackend(smollm, ResponseCache(tmp_path / "c.sqlite"))
    DialogueSynthesizer(cfg, cached).run(out, progress=False)
    before = out.read_text()
    again = DialogueSynthesizer(cfg, cached).run(out, progress=False)
    assert again.already_done == 3 and again.attempts == 0 and out.read_text() == before
    # a fresh output with the same cache: every answer comes from disk, same dialogues
    misses = cached.misses
    DialogueSynthesizer(cfg, cached).run(tmp_path / "r2.jsonl", progress=False)
    assert cached.misses == misses
    # the same dialogues; the file order is the order answers arrived in (parallel sequences finish in any order)
    assert {d.id: d.turns for d in read_dialogues(tmp_path / "r2.jsonl")} == {
        d.id: d.turns for d in read_dialogues(out)
    }


def test_more_dialogues_extend_an_existing_output(smollm, tmp_path):
    out = tmp_path / "e.jsonl"
    DialogueSynthesizer(DialogueConfig.create(mode="natural", **(FAST | {"n": 1})), smollm).run(out, progress=False)
    s = DialogueSynthesizer(DialogueConfig.create(mode="natural", **(FAST | {"n": 2})), smollm).run(out, progress=False)
    assert s.already_done == 1 and s.accepted + s.rejected == 1


def test_resuming_with_another_config_is_refused(smollm, tmp_path):
    out = tmp_path / "x.jsonl"
    DialogueSynthesizer(DialogueConfig.create(mode="natural", **(FAST | {"n": 1})), smollm).run(out, progress=False)
    with pytest.raises(ConfigError, match="generated with mode='natural', not 'balanced'"):
        DialogueSynthesizer(DialogueConfig.create(mode="balanced", **(FAST | {"n": 1})), smollm).run(out)


def test_an_output_from_before_judge_rounds_resumes_unless_its_bar_made_them_matter(tmp_path):
    out = tmp_path / "old.jsonl"
    old = DialogueConfig.create(mode="natural").model_dump(exclude={"judge_rounds"})
    sidecar(out, "config.json").write_text(json.dumps(old))
    check_output(out, DialogueConfig.create(mode="natural").model_dump())  # no bar: rounds change nothing
    barred = DialogueConfig.create(mode="natural", best_of=4, judge="j", min_judge_score=0.2)
    sidecar(out, "config.json").write_text(json.dumps(barred.model_dump(exclude={"judge_rounds"})))
    with pytest.raises(ConfigError, match="judge_rounds=1, not 2"):
        check_output(out, barred.model_dump())  # a bar with one round rejected whole dialogues: another dataset
    check_output(out, barred.model_copy(update={"judge_rounds": 1}).model_dump())


def test_replies_cut_by_max_tokens_are_rejected_with_reason(smollm, tmp_path):
    fast = dict(mode="natural", n=2, min_turns=3, max_turns=3, max_attempts=2)
    cfg = DialogueConfig.create(decoding="schema", max_tokens=12, **fast)
    summary = DialogueSynthesizer(cfg, smollm).run(tmp_path / "t.jsonl", progress=False)
    assert summary.accepted == 0 and summary.final_rejections_by_reason == {"truncated": 2}
    assert summary.rejections_by_reason == {"truncated": 4}
    # template filling: two tokens per utterance draw are too few for a line (cut short, or empty at best)
    cfg = DialogueConfig.create(max_tokens=8, **(fast | {"min_turns": 4, "max_turns": 4}))
    summary = DialogueSynthesizer(cfg, smollm).run(tmp_path / "f.jsonl", progress=False)
    assert summary.accepted == 0 and summary.rejected == 2 and summary.redraws > 0
    assert set(summary.rejections_by_reason) <= {"truncated", "empty_utterance"}


def test_template_filling_writes_the_planned_dialogue_and_counts_what_it_filled_in(smollm, tmp_path):
    cfg = DialogueConfig.create(mode="balanced", **FAST)
    summary = DialogueSynthesizer(cfg, smollm).run(tmp_path / "t.jsonl", progress=False)
    dialogues = read_dialogues(tmp_path / "t.jsonl")
    assert len(dialogues) == summary.accepted >= 2 and summary.forced_tokens > summary.accepted * 10
    for d in dialogues:
        assert d.metadata["decoding"] == "template" and d.target_emotion in d.emotions
    saved = json.loads(sidecar(tmp_path / "t.jsonl", "summary.json").read_text())
    assert saved["forced_tokens"] == summary.forced_tokens and saved["redraws"] == summary.redraws
    # a backend that cannot fill templates gets schema requests, and the run records what it really did
    scripted = DialogueSynthesizer(cfg, ScriptedModel())
    request = scripted.request(scripted.spec(0), 0)
    assert scripted.decoding == "schema" and request.template is None and request.json_schema is not None
    assert scripted.config_record()["decoding"] == "schema"
    filling = DialogueSynthesizer(cfg, smollm)
    request = filling.request(filling.spec(0), 0)
    assert request.template is not None and request.hole_max_chars == cfg.tokens_per_turn * 3
    with pytest.raises(ConfigError, match="decoding 'template' needs planned labelling"):
        DialogueConfig.create(preset="paper", decoding="template")


def _lines(path):
    """Complete lines only: a kill may leave a partial last line, which the next run removes."""
    return path.read_text().split("\n")[:-1] if path.exists() else []


def _generate(out, n=6, ignore_sigint=False):
    """The command generating ``n`` Natural dialogues into ``out`` with SmolLM2, and a process running it."""
    cmd = [sys.executable, "-m", "emosynth", "generate", "dialogues", "--model", "smollm2-135m", "-n", str(n)]
    cmd += ["--mode", "natural", "--min-turns", "3", "--max-turns", "4", "--no-progress", "-o", str(out)]
    cmd += ["--concurrency", "3"]  # dialogues decoded in parallel sequences: those in flight at a kill are lost
    env = os.environ | {"EMOSYNTH_CACHE": str(out.parent / "cache")}
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=ignore)
    return cmd, env, proc


def _wait_for(out, proc, n):
    deadline = time.time() + 300
    while len(_lines(out)) + len(_lines(sidecar(out, "rejected.jsonl"))) < n and time.time() < deadline:
        assert proc.poll() is None, "generation ended before it could be stopped"
        time.sleep(0.2)


def test_sigkill_mid_run_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "k.jsonl"
    cmd, env, proc = _generate(out)
    _wait_for(out, proc, 2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = _lines(out)
    assert 1 <= len(kept) + len(_lines(sidecar(out, "rejected.jsonl"))) < 6
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
    final = _lines(out)
    assert final[: len(kept)] == kept  # nothing written before the kill was lost or rewritten
    ids = [json.loads(line)["id"] for line in final] + [
        json.loads(line)["id"] for line in _lines(sidecar(out, "rejected.jsonl"))
    ]
    assert len(ids) == len(set(ids)) == 6
    saved = json.loads(sidecar(out, "summary.json").read_text())  # the killed invocation wrote none
    assert len(saved["invocations"]) == 1 and saved["whole_file"]["dialogues"] == len(final)


@pytest.mark.parametrize(
    "how",
    ["ctrl-c", "kill", "ctrl-c-in-background"],  # the last: started with SIGINT ignored, as `cmd &` in a script does
)
def test_an_interrupted_run_records_what_it_did_and_the_next_adds_to_it(tmp_path, how):
    out = tmp_path / "i.jsonl"
    cmd, env, proc = _generate(out, ignore_sigint=how == "ctrl-c-in-background")
    _wait_for(out, proc, 1)
    os.kill(proc.pid, signal.SIGTERM if how == "kill" else signal.SIGINT)
    assert proc.wait(timeout=120) != 0
    first = json.loads(sidecar(out, "summary.json").read_text())
    done = first["accepted"] + first["rejected"]
    assert first["interrupted"] and 1 <= done < 6 and first["wall_seconds"] > 0
    assert len(first["invocations"]) == 1 and first["whole_file"]["dialogues"] == first["accepted"]
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
    saved = json.loads(sidecar(out, "summary.json").read_text())
    assert not saved["interrupted"] and saved["already_done"] == done
    assert [i["interrupted"] for i in saved["invocations"]] == [True, False]
    assert saved["whole_file"]["dialogues"] == len(read_dialogues(out)) == first["accepted"] + saved["accepted"]
    total = sum(i["wall_seconds"] for i in saved["invocations"])
    assert saved["whole_file"]["wall_seconds"] == pytest.approx(total, abs=0.02)
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)  # complete: nothing to add
    assert json.loads(sidecar(out, "summary.json").read_text()) == saved


def test_pipeline_through_an_openai_compatible_server(llama_server, tmp_path):
    from emosynth.llm.openai_compat import OpenAIBackend

    backend = OpenAIBackend(base_url=llama_server, concurrency=2)
    out = tmp_path / "o.jsonl"
    summary = DialogueSynthesizer(DialogueConfig.create(mode="balanced", **FAST), backend).run(out, progress=False)
    assert summary.accepted + summary.rejected == 3 and summary.completion_tokens > 0
    assert backend.dialect == "json_object"
    config = json.loads(sidecar(out, "config.json").read_text())
    assert (config["backend"], config["model"]) == ("openai", "smollm2")  # whether or not a dialogue was accepted
    for d in read_dialogues(out):
        assert d.backend == "openai" and d.model == "smollm2" and d.target_emotion in d.emotions


@pytest.fixture
def meld_judge(tiny_bert, tmp_path):
    """A real (untrained, tiny) MELD utterance classifier saved as ``emosynth train`` saves one."""
    from emosynth.train.sequence import SequenceClassifier

    SequenceClassifier(tiny_bert, list(MELD_LABELS), kind="utterance", max_length=32).save(tmp_path / "judge")
    return str(tmp_path / "judge")


def test_best_of_n_keeps_turns_the_judge_scored_and_records_its_choice(smollm, meld_judge, tmp_path):
    from emosynth.quality.judges import ClassifierChooser, opener

    chooser = ClassifierChooser(meld_judge)
    cfg = DialogueConfig.create(mode="balanced", best_of=3, judge=meld_judge, **FAST)
    out = tmp_path / "best.jsonl"
    summary = DialogueSynthesizer(cfg, smollm, chooser=chooser).run(out, progress=False)
    dialogues = read_dialogues(out)
    assert len(dialogues) == summary.accepted >= 2
    turns = 0
    for d in dialogues:
        judged = d.metadata["judge"]
        assert judged["selected_by"] == meld_judge and len(judged["scores"]) == len(d.turns)
        assert all(1 <= c <= 3 for c in judged["candidates"])
        for turn, score, agree in zip(d.turns, judged["scores"], judged["agree"]):
            # the recorded score is the judge's own probability of the planned label for the kept words (half a
            # point less where it reused a recent opener of its label while another candidate did not)
            [(again, top)] = ClassifierChooser(meld_judge).score(turn.emotion, [turn.text], [])
            assert min(abs(score - again), abs(score - again + 0.5)) < 1e-3 and agree == top
            turns += 1
    saved = json.loads(sidecar(out, "summary.json").read_text())
    assert saved["selected_by"] == meld_judge and 1 < saved["candidates_per_kept_turn"] <= 3
    assert saved["selecting_judge_agreement"] == pytest.approx(
        sum(a for d in dialogues for a in d.metadata["judge"]["agree"]) / turns, abs=1e-4
    )
    # a bar no turn reaches rejects every dialogue, with its reason; a different bar is a different dataset
    strict = cfg.model_copy(update={"min_judge_score": 0.99, "n": 1, "max_attempts": 2})
    with pytest.raises(ConfigError, match="min_judge_score"):
        DialogueSynthesizer(strict, smollm, chooser=chooser).run(out, progress=False)
    DialogueSynthesizer(strict, smollm, chooser=chooser).run(tmp_path / "strict.jsonl", progress=False)
    [rejection] = [json.loads(x) for x in sidecar(tmp_path / "strict.jsonl", "rejected.jsonl").read_text().splitlines()]
    assert rejection["reason"] == "judge_below_threshold" and "does not read as" in rejection["attempts"][0]["detail"]
    with pytest.raises(ConfigError, match="needs a judge"):
        DialogueConfig.create(best_of=3)
    with pytest.raises(ConfigError, match="opener_cap needs a judge"):
        DialogueConfig.create(opener_cap=1.5)
    # a resumed run's chooser first hears every turn already kept, in order, as the uninterrupted run's had
    again = ClassifierChooser(meld_judge)
    DialogueSynthesizer(cfg, smollm, chooser=again).run(out, progress=False)  # nothing left to generate
    for label in {t.emotion for d in dialogues for t in d.turns}:
        kept = [t.text for d in dialogues for t in d.turns if t.emotion == label]
        assert sum(again.opened[label].values()) == len(kept) and list(again.recent[label]) == [
            opener(text) for text in kept[-3:]
        ]
    # another opener cap is another recipe: no resuming into this output with one
    capped = ClassifierChooser(meld_judge, opener_cap=1.5, real_openers={"joy": 0.2})
    with pytest.raises(ConfigError, match="opener_cap"):
        DialogueSynthesizer(cfg.model_copy(update={"opener_cap": 1.5}), smollm, chooser=capped).run(out, progress=False)
    # and its requests name it: a cached answer chosen without the cap is not replayed for a run with one
    for cap, judge, rules in ((None, again, None), (1.5, capped, "opener_cap=1.5")):
        synth = DialogueSynthesizer(cfg.model_copy(update={"opener_cap": cap}), smollm, chooser=judge)
        assert synth.request(synth.spec(0), 1).chooser_rules == rules
    # a chooser built with other rules than the run records would make a dataset its config misdescribes
    for cap, judge in ((1.5, again), (None, capped), (2.0, capped)):
        with pytest.raises(ConfigError, match="build the chooser with the run's opener cap"):
            DialogueSynthesizer(cfg.model_copy(update={"opener_cap": cap}), smollm, chooser=judge)
    with pytest.raises(ConfigError, match="cannot choose"):
        DialogueSynthesizer(cfg, ScriptedModel(), chooser=chooser)


def test_the_chooser_scores_on_the_threads_given(meld_judge):
    # generate --n-threads 1 beside a training job: the judges must not take the other core back
    import torch

    from emosynth.quality.judges import ClassifierChooser

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        ClassifierChooser(meld_judge)
        assert torch.get_num_threads() == 2  # no threads given: left as they are
        chooser = ClassifierChooser(meld_judge, threads=1)
        assert torch.get_num_threads() == 1
        assert chooser.score("joy", ["We won!"], [])[0][0] > 0
    finally:
        torch.set_num_threads(before)


def test_the_chooser_marks_down_a_recent_opener_of_the_same_label_when_another_is_possible(meld_judge):
    from emosynth.quality.judges import ClassifierChooser

    chooser = ClassifierChooser(meld_judge, opener_window=2)
    [(first, _)] = chooser.score("joy", ["Great, we won the cup!"], [])
    chooser.kept("joy", "Great, we won the cup!")  # what the backend does with the best candidate
    fresh = ClassifierChooser(meld_judge)
    plain = [s for s, _ in fresh.score("joy", ["Great news about the cup!", "We won, I can't believe it!"], [])]
    marked = [s for s, _ in chooser.score("joy", ["Great news about the cup!", "We won, I can't believe it!"], [])]
    assert marked[0] == pytest.approx(plain[0] - 0.5) and marked[1] == pytest.approx(plain[1])
    # every candidate reuses it: no choice to make, no mark; other labels keep their own openers
    assert chooser.score("joy", ["Great, again!"], [])[0][0] > 0
    assert chooser.score("anger", ["Great, just great."], [])[0][0] > 0
    # a candidate naming its own label is kept only when all do
    [(named, _)] = fresh.score("anger", ["I am so angry with you."], [])
    assert named < 0


def test_the_opener_cap_marks_down_an_opener_that_would_crowd_its_label_past_the_real_share(meld_judge):
    from emosynth.quality.judges import ClassifierChooser

    # the cap: 1.5 x the real top-opener share 0.2 = 0.3 of joy's kept turns, from the 4th kept joy turn on
    capped = ClassifierChooser(meld_judge, opener_window=1, opener_cap=1.5, real_openers={"joy": 0.2}, opener_floor=4)
    fresh = ClassifierChooser(meld_judge)
    for text in ("We won!", "Great stuff.", "We did it!"):
        capped.kept("joy", text)
    texts = ["We love it!", "Great game!", "So happy for us!"]
    plain = [s for s, _ in fresh.score("joy", texts, [])]
    # 3 kept turns: under the floor, only the window (the last opener, "we") marks
    assert [s for s, _ in capped.score("joy", texts, [])] == pytest.approx([plain[0] - 0.5, plain[1], plain[2]])
    capped.kept("joy", "We are the champions.")
    # 4 kept (we 3, great 1): another "we" would be 4/5, another "great" 2/5, both over 0.3; "so" 1/5 is under;
    # "we" is also the window's: it is marked twice
    marked = [s for s, _ in capped.score("joy", texts, [])]
    assert marked == pytest.approx([plain[0] - 1.0, plain[1] - 0.5, plain[2]])
    # every candidate crowded: the cap has no choice to make, the window still has one
    both = [s for s, _ in capped.score("joy", texts[:2], [])]
    assert both == pytest.approx([plain[0] - 0.5, plain[1]])
    # other labels have no real share here: no cap
    for text in ("No way.", "No!", "No, never.", "No more."):
        capped.kept("anger", text)
    assert capped.score("anger", ["No chance."], [])[0][0] == pytest.approx(
        fresh.score("anger", ["No chance."], [])[0][0]
    )
    with pytest.raises(ConfigError, match="top-opener share"):
        ClassifierChooser(meld_judge, opener_cap=1.5)


@needs_data
def test_the_opener_cap_reads_the_real_top_opener_shares_of_the_benchmark():
    from emosynth.cli.generate import real_openers
    from emosynth.quality.corpus import load_corpus
    from emosynth.quality.describe import openers

    shares = real_openers("meld", None)
    assert set(shares) == set(MELD_LABELS) and all(0 < v < 0.5 for v in shares.values())
    # the share inspect reports for the label's most common first word
    surprise = [t.text for d in load_corpus("meld:train").dialogues for t in d.turns if t.emotion == "surprise"]
    firsts = [(t.lower().split() or [""])[0].strip("!?.,") for t in surprise]
    top = max(set(firsts), key=firsts.count)
    assert shares["surprise"] == pytest.approx(firsts.count(top) / len(firsts), abs=0.02)
    assert openers(load_corpus("meld:train"))["surprise"]["word_share"] == shares["surprise"]
    with pytest.raises(ConfigError, match="none for 'goemotions'"):
        real_openers("goemotions", None)


def test_several_judges_choose_together_with_the_mean_of_their_probabilities(meld_judge, tiny_bert, tmp_path):
    import torch

    from emosynth.quality.judges import ClassifierChooser
    from emosynth.train.sequence import SequenceClassifier

    torch.manual_seed(1)  # another untrained head: other probabilities
    SequenceClassifier(tiny_bert, list(MELD_LABELS), kind="context", max_length=32).save(tmp_path / "other")
    other = str(tmp_path / "other")
    texts, history = ["We won the cup!", "Leave me alone."], ["How did it go?"]
    one, two = ([s for s, _ in ClassifierChooser(j).score("joy", texts, history)] for j in (meld_judge, other))
    both = ClassifierChooser(f"{meld_judge},{other}").score("joy", texts, history)
    assert one != two
    assert [s for s, _ in both] == pytest.approx([(a + b) / 2 for a, b in zip(one, two)], abs=1e-5)
    SequenceClassifier(tiny_bert, ["neutral", "joy"], kind="utterance", max_length=32).save(tmp_path / "two")
    with pytest.raises(ConfigError, match="has other labels than"):
        ClassifierChooser(f"{meld_judge},{tmp_path / 'two'}")


def test_an_auto_judge_is_trained_once_on_the_threads_given(tmp_path):
    from emosynth.cli.generate import trained_judge
    from emosynth.data.export import export_dialogues

    from ..train.test_sequence import toy_dialogues

    root = tmp_path / "meld"
    for split, n in (("train", 12), ("dev", 6), ("test", 6)):
        export_dialogues(toy_dialogues(n), root / f"{split}_sent_emo.csv", "meld-csv")
    run_dir = tmp_path / "judges" / "meld_utterance_cw"
    model = trained_judge("meld", "utterance", run_dir, str(root), threads=1)
    assert (run_dir / "model" / "emosynth.json").is_file() and model == (run_dir / "model").as_posix()
    training = json.loads((run_dir / "results.json").read_text())["config"]["training"]
    assert training["threads"] == 1 and training["class_weights"]
    stamp = (run_dir / "results.json").stat().st_mtime_ns
    assert trained_judge("meld", "utterance", run_dir, str(root)) == model  # there: not trained again
    assert (run_dir / "results.json").stat().st_mtime_ns == stamp
