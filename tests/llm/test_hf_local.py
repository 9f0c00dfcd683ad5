"""The transformers backend with a tiny GPT-2 built from config and a tokenizer built here (no download)."""

import pytest

from emosynth.errors import ModelFileError
from emosynth.llm.base import ChatRequest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CHAT = (
    "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant :{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = [
        "[UNK]",
        "[EOS]",
        "user",
        "assistant",
        "system",
        ":",
        "hi",
        "anna",
        "joy",
        "{",
        "}",
        "answer",
        "with",
        "json",
        "only",
        "following",
        "this",
        "schema",
        "x",
    ]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="[EOS]")
    fast.chat_template = CHAT
    path = tmp_path_factory.mktemp("tiny-gpt2")
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=len(words), n_positions=256, n_embd=32, n_layer=2, n_head=2, eos_token_id=1, bos_token_id=1
    )
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def test_generates_with_usage_and_seeded_sampling(tiny_model_dir):
    from emosynth.llm.hf_local import TransformersBackend

    backend = TransformersBackend(model=str(tiny_model_dir))
    request = ChatRequest(
        messages=({"role": "user", "content": "hi anna"},),
        max_tokens=6,
        seed=4,
        temperature=1.0,
        repeat_penalty=1.0,
    )
    a, b = backend.complete(request), backend.complete(request)
    assert a.text == b.text and a.model == tiny_model_dir.name
    assert a.prompt_tokens == 6  # user : hi anna assistant :
    assert 1 <= a.completion_tokens <= 6
    assert a.finish_reason == ("length" if a.completion_tokens == 6 else "stop")


def test_schema_is_added_to_the_prompt(tiny_model_dir):
    from emosynth.llm.hf_local import TransformersBackend

    backend = TransformersBackend(model=str(tiny_model_dir))
    request = ChatRequest(messages=({"role": "user", "content": "hi"},), max_tokens=2, json_schema={"type": "x"})
    assert "following this schema" in backend._messages(request)[-1]["content"]
    assert backend.complete(request).prompt_tokens > 10


def test_needs_a_local_directory(tmp_path):
    from emosynth.llm.hf_local import TransformersBackend

    with pytest.raises(ModelFileError, match="needs a local model directory"):
        TransformersBackend(model=str(tmp_path / "nope"))
