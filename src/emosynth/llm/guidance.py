"""JSON schemas enforced by llguidance token masks instead of llama.cpp's grammar sampler.

llama.cpp's grammar sampler checks candidate tokens against the grammar's stacks one by one over Qwen's 152K-token
vocabulary, which halves the decoding rate (``benchmarks/results/constraint_engines.json``). llguidance (the
constraint engine behind guidance and several inference servers) computes the set of allowed tokens for the next
step as a bitmask in microseconds; a logits processor sets every other token's logit to -inf before llama.cpp's
usual sampler chain runs, so the sampled text is valid under the schema exactly as with the grammar.

JSON is compiled without free whitespace (``, `` and ``: `` as separators), as llama.cpp's own schema grammar
writes it, so both engines spend their tokens on content; and an object that does not say ``additionalProperties``
gets no keys beyond its ``properties``, as llama.cpp's schema converter has it (JSON Schema itself would allow
any: a small model then writes keys nobody asked for until it runs out of tokens).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from emosynth.errors import BackendError

MAPPINGS = ("properties", "patternProperties", "$defs", "definitions")  # name -> schema, not schemas themselves
COMPACT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def available() -> bool:
    """Whether llguidance is installed (extra ``llm``)."""
    try:
        import llguidance.llamacpp  # noqa: F401
    except ImportError:
        return False
    return True


def closed(schema: Any) -> Any:
    """A copy of ``schema`` in which every object without ``additionalProperties`` takes none."""
    if isinstance(schema, list):
        return [closed(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: {name: closed(sub) for name, sub in v.items()} if k in MAPPINGS and isinstance(v, dict) else closed(v)
        for k, v in schema.items()
    }
    if (schema.get("type") == "object" or "properties" in schema) and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


class SchemaMask:
    """A ``logits_processor`` for ``Llama.create_chat_completion`` that allows only tokens the schema permits.

    It is called once per sampled token with every token id so far: the tokens added since the last call are fed
    to the matcher, then the next mask is applied to the scores in place.
    """

    def __init__(self, tokenizer, schema: dict, n_vocab: int):
        import llguidance
        import llguidance.numpy

        self._fill = llguidance.numpy.fill_next_token_bitmask
        grammar = llguidance.LLMatcher.grammar_from_json_schema(closed(schema), overrides=COMPACT)
        self.matcher = llguidance.LLMatcher(tokenizer, grammar)
        if self.matcher.is_error():
            raise BackendError(f"llguidance cannot compile the JSON schema: {self._error()}")
        self.bits = llguidance.numpy.allocate_token_bitmask(1, n_vocab)
        self.seen: int | None = None

    def _error(self) -> str:
        return " ".join(self.matcher.get_error().split())  # llguidance's messages span lines

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.seen is not None and not self.matcher.consume_tokens([int(t) for t in input_ids[self.seen :]]):
            raise BackendError(f"llguidance refused a sampled token: {self._error()}")
        self.seen = len(input_ids)
        self._fill(self.matcher, self.bits)
        allowed = np.unpackbits(self.bits.view(np.uint8), bitorder="little")[: scores.shape[-1]]
        scores[allowed == 0] = -np.inf
        return scores


class Guide:
    """The llguidance tokenizer of a loaded model (built once, ~1 s) and the masks made with it."""

    def __init__(self, llm):
        import llama_cpp
        from llguidance.llamacpp import lltokenizer_from_vocab

        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        with warnings.catch_warnings():  # the bridge calls llama.cpp's deprecated per-token aliases 152K times
            warnings.simplefilter("ignore", DeprecationWarning)
            self.tokenizer = lltokenizer_from_vocab(vocab, n_vocab=self.n_vocab)

    def processor(self, schema: dict):
        """A fresh logits-processor list enforcing ``schema`` for one completion."""
        import llama_cpp

        return llama_cpp.LogitsProcessorList([SchemaMask(self.tokenizer, schema, self.n_vocab)])
