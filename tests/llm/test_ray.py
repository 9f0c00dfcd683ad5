"""The Ray backend on a real local cluster with the small llama.cpp model."""

import json
import subprocess
import sys

import pytest

from emosynth.errors import BackendError, ModelFileError
from emosynth.llm.base import ChatRequest, get_backend
from emosynth.llm.llamacpp import LlamaCppBackend

ray = pytest.importorskip("ray")

SCHEMA = {"type": "object", "properties": {"mood": {"enum": ["happy", "sad"]}}, "required": ["mood"]}


def requests(n):
    return [
        ChatRequest(
            messages=({"role": "user", "content": f"Say something about the number {i}. Answer in JSON."},),
            max_tokens=16,
            seed=100 + i,
            json_schema=SCHEMA if i % 2 else None,
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def ray_smollm():
    # 4 logical CPUs on 2 cores: two replicas take two, the failure tests below use the rest.
    backend = get_backend("ray", model="smollm2-135m", replicas=2, cpus_per_replica=1, num_cpus=4)
    yield backend
    backend.close()
    assert not ray.is_initialized()


def test_replicas_answer_every_request_as_the_in_process_model_does(ray_smollm):
    reqs = requests(6)
    answers = dict(ray_smollm.complete_many(reqs))
    assert sorted(answers) == list(range(6))
    assert ray_smollm.n_replicas == 2 and ray_smollm.model_id == "smollm2-135m"
    assert ray_smollm.identity() == "llamacpp:smollm2-135m"
    local = LlamaCppBackend("smollm2-135m", n_threads=1)
    try:
        for i in (0, 1, 5):
            expected = local.complete(reqs[i])
            assert answers[i].text == expected.text and answers[i].completion_tokens == expected.completion_tokens
    finally:
        local.close()
    for i in (1, 3, 5):
        assert json.loads(answers[i].text)["mood"] in ("happy", "sad")


def test_a_wave_of_template_requests_is_answered_as_the_same_chunks_in_process(ray_smollm):
    system = {"role": "system", "content": "You write one short line of a play about a lighthouse keeper."}
    reqs = [
        ChatRequest(
            messages=(system, {"role": "user", "content": f"Line {i}, as JSON."}),
            template=('{"line": "', '"}'),
            max_tokens=24,
            seed=7 + i,
        )
        for i in range(4)
    ]
    answers = dict(ray_smollm.complete_many(reqs))  # two replicas: chunks [0, 1] and [2, 3], each one wave
    assert sorted(answers) == [0, 1, 2, 3]
    local = LlamaCppBackend("smollm2-135m", n_threads=1, concurrency=1)
    try:
        for chunk in ([0, 1], [2, 3]):
            expected = dict(local.complete_many([reqs[i] for i in chunk]))
            assert [answers[i].text for i in chunk] == [expected[0].text, expected[1].text]
    finally:
        local.close()
    assert all(json.loads(a.text)["line"] for a in answers.values())


def test_a_replica_that_cannot_load_its_model_fails_with_one_line(ray_smollm, tmp_path):
    with pytest.raises(ModelFileError, match="missing.gguf") as info:
        get_backend("ray", model=str(tmp_path / "missing.gguf"), replicas=1)
    assert "\n" not in str(info.value)
    assert ray.is_initialized()  # the cluster of the other backend is left alone


def test_a_request_the_model_refuses_is_a_backend_error(ray_smollm):
    too_long = ChatRequest(messages=({"role": "user", "content": "word " * 5000},), max_tokens=8)
    with pytest.raises(BackendError, match="llama.cpp refused the request") as info:
        ray_smollm.complete(too_long)
    assert "\n" not in str(info.value)


def test_cli_generates_through_ray_and_refuses_an_unreachable_cluster(tmp_path):
    out = tmp_path / "ray.jsonl"
    base = [sys.executable, "-m", "emosynth", "generate", "dialogues", "--backend", "ray", "--no-progress"]
    args = ["--model", "smollm2-135m", "-n", "2", "--min-turns", "3", "--max-turns", "3", "--max-attempts", "2"]
    run = subprocess.run([*base, *args, "--replicas", "2", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    done = out.read_text().splitlines() + out.with_name("ray.rejected.jsonl").read_text().splitlines()
    assert len(done) == 2
    config = json.loads(out.with_name("ray.config.json").read_text())
    assert (config["backend"], config["model"]) == ("ray", "smollm2-135m")  # whether or not a dialogue was accepted
    for line in out.read_text().splitlines():
        assert json.loads(line)["backend"] == "ray" and json.loads(line)["model"] == "smollm2-135m"
    down = subprocess.run(
        [*base, *args, "--ray-address", "127.0.0.1:9", "-o", str(tmp_path / "down.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert down.returncode == 2
    assert down.stderr.strip().splitlines()[-1].startswith("error: cannot connect to the Ray cluster at 127.0.0.1:9")


def test_cli_verify_judges_through_ray_and_refuses_an_unreachable_cluster(tmp_path):
    data = tmp_path / "d.jsonl"
    dialogue = {
        "id": "d0",
        "taxonomy": "meld",
        "turns": [
            {"speaker": "Ann", "text": "We won the cup, I am so happy!", "emotion": "joy"},
            {"speaker": "Ben", "text": "That smell is disgusting.", "emotion": "disgust"},
        ],
    }
    data.write_text(json.dumps(dialogue) + "\n")
    base = [sys.executable, "-m", "emosynth", "verify", str(data), "--backend", "ray", "--model", "smollm2-135m"]
    base += ["--ceiling-from", str(data), "--ceiling-per-label", "1"]
    run = subprocess.run(
        [*base, "--replicas", "1", "--json", str(tmp_path / "f.json")], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-2000:]
    entry = json.loads((tmp_path / "f.json").read_text())["judges"]["llm"]
    assert entry["model"] == "llamacpp:smollm2-135m" and entry["agreement"]["n"] + entry["agreement"]["unanswered"] == 2
    down = subprocess.run(
        [*base, "--ray-address", "127.0.0.1:9", "--json", str(tmp_path / "g.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert down.returncode == 2
    assert down.stderr.strip().splitlines()[-1].startswith("error: cannot connect to the Ray cluster at 127.0.0.1:9")
    assert not (tmp_path / "g.json").exists()
