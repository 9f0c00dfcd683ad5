"""The real llama.cpp path with the small packaged model (SmolLM2-135M)."""

import json

from emosynth.llm.base import ChatRequest

MSG = ({"role": "user", "content": "Say hello to Anna in one short sentence."},)


def test_completion_has_text_and_usage(smollm):
    out = smollm.complete(ChatRequest(messages=MSG, max_tokens=40, seed=3))
    assert out.text.strip()
    assert out.prompt_tokens > 5 and 0 < out.completion_tokens <= 40
    assert out.model == "smollm2-135m" and out.seconds > 0


def test_same_seed_same_text(smollm):
    a = smollm.complete(ChatRequest(messages=MSG, max_tokens=30, seed=11, temperature=1.0))
    b = smollm.complete(ChatRequest(messages=MSG, max_tokens=30, seed=11, temperature=1.0))
    assert a.text == b.text


def test_json_schema_is_enforced_by_the_grammar(smollm):
    schema = {
        "type": "object",
        "properties": {
            "speaker": {"const": "Anna"},
            "label": {"enum": [0, 1, 2]},
            "text": {"type": "string", "maxLength": 80},
        },
        "required": ["speaker", "label", "text"],
        "additionalProperties": False,
    }
    out = smollm.complete(ChatRequest(messages=MSG, max_tokens=120, seed=5, json_schema=schema))
    obj = json.loads(out.text)
    assert obj["speaker"] == "Anna" and obj["label"] in (0, 1, 2) and isinstance(obj["text"], str)


def test_max_tokens_cut_marks_reply_truncated(smollm):
    long = ({"role": "user", "content": "Write a long story about a dragon, at least 300 words."},)
    out = smollm.complete(ChatRequest(messages=long, max_tokens=8, seed=1))
    assert out.truncated and out.completion_tokens == 8


def test_a_build_with_amx_loads_models_without_the_extra_buffer_types(smollm, monkeypatch):
    import llama_cpp

    from emosynth.llm.llamacpp import without_amx

    amx = "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode()
    # the backend (smollm) has loaded: on an AMX build its weights skipped the AMX layout, which crashes some hosts
    assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is (not amx)
    assert without_amx(llama_cpp) is amx
    monkeypatch.setenv("EMOSYNTH_LLAMA_AMX", "1")  # a host where AMX works keeps it (from the next process on)
    assert without_amx(llama_cpp) is False


def test_n_threads_holds_for_batches_too():
    # llama.cpp takes n_threads_batch for any batch of several tokens: prompts, and every step of batched decoding
    from emosynth.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend("smollm2-135m", n_threads=1)
    try:
        params = backend.llm.context_params
        assert (params.n_threads, params.n_threads_batch) == (1, 1)
    finally:
        backend.close()
