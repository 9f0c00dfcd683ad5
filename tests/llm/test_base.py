import subprocess
import sys

import pytest

from emosynth.errors import UnknownNameError
from emosynth.llm.base import ChatRequest, Completion, backend_class, cache_key


def test_unknown_backend_suggests_close_name():
    with pytest.raises(UnknownNameError, match="Unknown backend 'lamacpp'. Did you mean 'llamacpp'"):
        backend_class("lamacpp")


def test_importing_emosynth_imports_no_heavy_runtime():
    code = (
        "import sys, emosynth, emosynth.llm, emosynth.cli, emosynth.synth.dialogues;"
        "print([m for m in ('llama_cpp', 'openai', 'torch', 'transformers', 'ray') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cache_key_covers_seed_sample_index_and_identity():
    base = ChatRequest(messages=({"role": "user", "content": "hi"},), seed=1)
    assert cache_key("a", base) == cache_key("a", ChatRequest(messages=({"role": "user", "content": "hi"},), seed=1))
    assert cache_key("a", base) != cache_key("b", base)
    assert cache_key("a", base) != cache_key("a", ChatRequest(messages=base.messages, seed=2))
    assert cache_key("a", base) != cache_key("a", ChatRequest(messages=base.messages, seed=1, sample_index=1))


def test_truncated_means_finish_reason_length():
    assert Completion("x", "length", 1, 1, "m").truncated
    assert not Completion("x", "stop", 1, 1, "m").truncated
