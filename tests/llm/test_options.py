"""Typed backend options: every option a backend takes, and a clear error for one it does not."""

import inspect

import pytest

from emosynth.errors import ConfigError, UnknownNameError
from emosynth.llm.base import BACKENDS, backend_class, get_backend
from emosynth.llm.options import OPTIONS, LlamaCppOptions, OpenAIOptions, backend_options


def test_every_backend_has_options_that_match_its_constructor():
    assert set(OPTIONS) == set(BACKENDS)
    for name, cls in OPTIONS.items():
        takes = [p for p in inspect.signature(backend_class(name).__init__).parameters if p != "self"]
        assert sorted(cls.model_fields) == sorted(["backend", *takes]), name


def test_unset_options_keep_the_backend_defaults():
    options = backend_options("openai", base_url="http://127.0.0.1:1/v1", concurrency=None, model=None)
    assert isinstance(options, OpenAIOptions) and options.concurrency == 4
    assert options.kwargs() == {
        "base_url": "http://127.0.0.1:1/v1",
        "model": None,
        "api_key_env": "OPENAI_API_KEY",
        "concurrency": 4,
        "max_retries": 3,
        "timeout": 300.0,
        "schema_dialect": "auto",
    }
    assert backend_options("llamacpp", model="smollm2-135m") == LlamaCppOptions(model="smollm2-135m")


def test_an_option_the_backend_does_not_take_is_refused_by_name():
    with pytest.raises(ConfigError, match="the llamacpp backend does not take --base-url; it takes --model"):
        backend_options("llamacpp", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ConfigError, match="the openai backend does not take --ray-address"):
        backend_options("openai", base_url="http://x/v1", address="auto")
    with pytest.raises(ConfigError, match="does not take --backend"):
        backend_options("ray", backend="openai")


def test_bad_values_and_unknown_backends_name_the_setting():
    with pytest.raises(ConfigError, match="--backend openai: concurrency: Input should be greater than or equal to 1"):
        backend_options("openai", concurrency=0)
    with pytest.raises(ConfigError, match="--backend openai: schema_dialect"):
        backend_options("openai", schema_dialect="yaml")
    with pytest.raises(UnknownNameError, match="Unknown backend 'lamacpp'. Did you mean 'llamacpp'?"):
        backend_options("lamacpp")


def test_get_backend_refuses_unknown_keyword_arguments_before_loading_anything():
    with pytest.raises(ConfigError, match="Backend 'llamacpp' does not take option 'base_url'; it takes: model"):
        get_backend("llamacpp", model="does-not-exist.gguf", base_url="http://127.0.0.1:1/v1")


def test_every_backend_option_has_a_command_line_flag():
    from emosynth.cli.app import LLM_FLAGS
    from emosynth.llm.options import flag

    flags = {"--" + p.name.replace("_", "-") for p in LLM_FLAGS}
    for cls in OPTIONS.values():
        assert {flag(k) for k in cls.model_fields} <= flags
