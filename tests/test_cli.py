"""Bad input through the real command line: one clear line on stderr, exit code 2, nothing lost."""

import json
import subprocess
import sys

from .conftest import free_port


def emosynth(*args, **kw):
    return subprocess.run([sys.executable, "-m", "emosynth", *args], capture_output=True, text=True, timeout=300, **kw)


def one_error_line(result):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_unknown_taxonomy(tmp_path):
    line = one_error_line(emosynth("generate", "dialogues", "--taxonomy", "mld", "-o", str(tmp_path / "o.jsonl")))
    assert "Unknown taxonomy 'mld'. Did you mean 'meld'?" in line


def test_malformed_taxonomy_yaml(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("labels:\n  - name: a\n   - name: b\n")
    line = one_error_line(emosynth("generate", "dialogues", "--taxonomy", str(bad), "-o", str(tmp_path / "o.jsonl")))
    assert f"Malformed YAML at {bad}:3" in line


def test_unreachable_server(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = one_error_line(
        emosynth("generate", "dialogues", "--backend", "openai", "--base-url", url, "-o", str(tmp_path / "o.jsonl"))
    )
    assert f"Cannot reach the server at {url}" in line


def test_missing_model_file(tmp_path):
    line = one_error_line(
        emosynth("generate", "dialogues", "--model", str(tmp_path / "none.gguf"), "-o", str(tmp_path / "o.jsonl"))
    )
    assert "neither an embedded model" in line


def test_unwritable_output(tmp_path):
    (tmp_path / "f").write_text("")
    line = one_error_line(emosynth("generate", "dialogues", "-o", str(tmp_path / "f" / "o.jsonl")))
    assert "Cannot write" in line and "o.jsonl" in line


def test_invalid_setting(tmp_path):
    line = one_error_line(
        emosynth("generate", "dialogues", "--min-turns", "9", "--max-turns", "5", "-o", str(tmp_path / "o.jsonl"))
    )
    assert "min_turns (9) is larger than max_turns (5)" in line


def test_resume_into_other_config_keeps_the_existing_file(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "x"}\n')
    (tmp_path / "o.config.json").write_text(json.dumps({"taxonomy": "meld", "mode": "natural"}))
    # the refusal comes before any model is looked for or loaded
    line = one_error_line(emosynth("generate", "dialogues", "--model", str(tmp_path / "none.gguf"), "-o", str(out)))
    assert "was generated with mode='natural', not 'balanced'" in line
    assert out.read_text() == '{"id": "x"}\n'


def test_models_lists_the_embedded_models():
    result = emosynth("models")
    assert result.returncode == 0
    assert "* qwen2.5-coder-1.5b" in result.stdout and "smollm2-135m" in result.stdout


def test_export_of_a_malformed_jsonl_names_the_line(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text('{"id": "a", "turns": [], "taxonomy": "meld"}\n{oops\n{"id": "b"}\n')
    line = one_error_line(emosynth("export", str(f), "-o", str(tmp_path / "x.csv"), "--format", "meld-csv"))
    assert f"{f}:2: not valid JSON" in line


def test_an_option_the_backend_does_not_take_is_an_error_not_ignored(tmp_path):
    out = tmp_path / "o.jsonl"
    line = one_error_line(emosynth("generate", "dialogues", "--base-url", "http://127.0.0.1:1/v1", "-o", str(out)))
    assert "the llamacpp backend does not take --base-url" in line
    line = one_error_line(emosynth("verify", str(out), "--backend", "openai", "--replicas", "2"))
    assert "the openai backend does not take --replicas" in line
    assert not out.exists()


def test_resuming_an_output_written_before_the_labelling_rename_is_still_checked(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "x"}\n')
    (tmp_path / "o.config.json").write_text(json.dumps({"taxonomy": "meld", "labels": "llm"}))
    line = one_error_line(emosynth("generate", "dialogues", "--labels", "planned", "-o", str(out)))
    assert "was generated with labelling='llm', not 'planned'" in line


def test_models_prepare_assembles_and_verifies_the_embedded_models():
    result = emosynth("models", "--prepare")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all("[verified: " in line for line in lines)
    assert any(line.startswith("* qwen2.5-coder-1.5b") and line.rstrip().endswith(".gguf]") for line in lines)


def test_an_output_made_before_template_filling_resumes_only_with_schema_decoding(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("")
    (tmp_path / "o.config.json").write_text(json.dumps({"taxonomy": "meld", "mode": "balanced", "labels": "planned"}))
    small = ["--model", "smollm2-135m", "-n", "1", "--max-attempts", "1", "--no-progress", "-o", str(out)]
    # compared once the backend is loaded: one that cannot fill templates would decode under the schema anyway
    line = one_error_line(emosynth("generate", "dialogues", *small))
    assert "was generated with decoding='schema', not 'template'" in line
    assert out.read_text() == ""
    # it was also made with the cues of before (version 2): the shipped ones (3) are refused, a version-2 file is not
    line = one_error_line(emosynth("generate", "dialogues", "--decoding", "schema", *small))
    assert "was generated with cues_version=2, not 3" in line
    cues = tmp_path / "cues.yaml"
    cues.write_text("version: 2\nlabels:\n  joy: delight\n  anger: raised voice\n")
    resumed = emosynth(
        "generate", "dialogues", "--decoding", "schema", "--cue-file", str(cues), "--replace-given-up", *small
    )
    assert resumed.returncode == 0, resumed.stderr
    config = json.loads((tmp_path / "o.config.json").read_text())
    assert config["decoding"] == "schema" and config["replace_given_up"] is True
    assert "added in place of given-up ones" in resumed.stdout


def test_pillars_names_a_missing_corpus_and_a_bad_story_file_before_loading_a_model(tmp_path):
    line = one_error_line(emosynth("generate", "pillars", "--stories", str(tmp_path / "none"), "-o", str(tmp_path)))
    assert f"No stories at {tmp_path / 'none'}" in line
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"id": "a", "text": "Once."}\n{"id": "b", "text": 3}\n')
    line = one_error_line(emosynth("generate", "pillars", "--stories", str(bad), "-o", str(tmp_path / "out")))
    assert f"{bad}:2: a story needs" in line
    line = one_error_line(
        emosynth("generate", "pillars", "--stories", str(bad), "--per-call", "2", "--contexts-per-call", "3", "-o", "x")
    )
    assert "contexts_per_call (3) exceeds per_call (2)" in line


def test_best_of_n_options_are_checked_before_a_model_loads(tmp_path):
    out = str(tmp_path / "d.jsonl")
    line = one_error_line(emosynth("generate", "dialogues", "--best-of", "3", "-o", out))
    assert "best_of 3 needs a judge" in line
    line = one_error_line(emosynth("generate", "dialogues", "--opener-cap", "1.5", "-o", out))
    assert "opener_cap needs a judge" in line
    line = one_error_line(emosynth("generate", "dialogues", "--taxonomy", "goemotions", "--judge", "auto", "-o", out))
    assert "--judge auto needs a benchmark to train on; there is none for 'goemotions'" in line
    # every auto name is checked before any judge trains (here no judge exists: auto would train one first)
    line = one_error_line(emosynth("generate", "dialogues", "--judge", "auto,auto:bilstm", "-o", out, cwd=tmp_path))
    assert "--judge auto:bilstm: unknown model 'bilstm'; expected one of utterance, context" in line
    assert not (tmp_path / "runs").exists()
    line = one_error_line(emosynth("generate", "dialogues", "--judge", str(tmp_path / "none"), "-o", out))
    assert "not a saved emosynth classifier" in line
