"""Template filling on an in-process llama.cpp model: the fixed text is evaluated, only the free strings sampled.

A request's ``template`` is the fixed text around the free strings of a JSON reply, ``template[0] + hole_0 +
template[1] + ... + hole_{n-1} + template[n]``, where each hole is the body of a JSON string. The fixed text is
evaluated in one batch after each hole, reusing everything evaluated before (the jump-forward idea of SGLang and
guidance), and only the holes are sampled: no grammar, no forced token drawn one at a time. Sampling of a hole
stops at its first unescaped double quote; tokens that cannot occur in a JSON string (control bytes, end of
generation) are masked. A hole that comes out empty, repeats an earlier hole (case and punctuation folded), is not
a valid JSON string body or runs past its token budget is drawn again from the same prefix, up to ``max_redraws``
times; after that the last draw stands and validation downstream rejects the reply with the usual reason.

Uses llama-cpp-python's sampler chain (``llama_cpp._internals.LlamaSampler``, pinned 0.3.36) with the same
samplers and defaults as ``Llama.create_chat_completion``, seeded per request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from emosynth.errors import BackendError
from emosynth.llm.base import ChatRequest
from emosynth.text import normalise

QUOTE, BACKSLASH = 0x22, 0x5C


@dataclass
class Filled:
    """A filled template and what it cost."""

    text: str
    finish_reason: str  # "stop", or "length" when a hole never closed within its budget
    prompt_tokens: int  # chat prompt tokens
    sampled_tokens: int  # tokens drawn by the sampler (redraws included)
    forced_tokens: int  # fixed-text tokens evaluated without sampling
    redraws: int
    seconds: float
    # best-of-n (a request with a chooser): per hole, the kept candidate's score, whether the chooser read the
    # hole's label in it, and how many candidates it was chosen from
    hole_scores: list[float] | None = None
    hole_agree: list[bool] | None = None
    hole_candidates: list[int] | None = None


@dataclass
class FillState:
    """One request being filled in sequence ``seq`` of a ``llm.batch.BatchFiller``: where it stands and what it has
    cost so far."""

    index: int
    seq: int
    sampler: object
    parts: tuple[str, ...]
    fixed_tokens: int
    budget: int  # tokens per draw of a hole
    max_chars: int | None
    prompt_tokens: int
    pending: list[int]  # tokens to evaluate next (prompt, fixed text, or the last sampled token)
    pos: int  # position of the first pending token
    start: float = field(default_factory=time.perf_counter)
    hole: int = 0
    hole_pos: int = 0  # position of the hole's first sampled token
    before_hole: int = 0  # the token evaluated just before the hole: evaluated again to redraw the hole
    raw: bytes = b""
    drawn: int = 0  # tokens drawn in the current draw
    attempt: int = 0
    seen: set[str] = field(default_factory=set)
    repeats: bool = False  # a hole may repeat an earlier one (``ChatRequest.hole_repeats``)
    text: list[str] = field(default_factory=list)
    sampled: int = 0
    redraws: int = 0
    result: Filled | None = None
    chooser: object = None  # best-of-n: the chooser, the holes' labels and the candidates drawn for this hole
    want: int = 1  # candidates per round
    min_score: float | None = None  # below it, the hole gets another round of candidates ...
    rounds: int = 1  # ... up to this many rounds in all
    round: int = 0
    labels: tuple[str, ...] = ()
    candidates: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    agree: list[bool] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def finish(self, finish_reason: str) -> None:
        self.result = Filled(
            "".join(self.text),
            finish_reason,
            self.prompt_tokens,
            self.sampled,
            self.fixed_tokens,
            self.redraws,
            time.perf_counter() - self.start,
            *((self.scores, self.agree, self.counts) if self.chooser is not None else ()),
        )


def closing_quote(before: bytes, piece: bytes) -> int:
    """Index in ``piece`` of the first double quote not escaped by a backslash (``before`` precedes it), or -1.

    Works on bytes: ``"`` and ``\\`` never occur inside a multi-byte UTF-8 sequence.
    """
    for j, byte in enumerate(piece):
        if byte == QUOTE:
            text = before + piece[:j]
            slashes = len(text) - len(text.rstrip(b"\\"))
            if slashes % 2 == 0:
                return j
    return -1


def string_body(raw: bytes) -> str | None:
    """The text of a JSON string body, or None when it is not a valid one (a stray backslash, bad UTF-8)."""
    try:
        return json.loads(b'"' + raw + b'"')
    except ValueError:
        return None


def acceptable(body: str | None, seen: set[str], max_chars: int | None = None) -> bool:
    """A hole stands when it is a valid string body of 2 to ``max_chars`` characters whose words were not seen in an
    earlier hole (case and punctuation folded) and are not empty."""
    if body is None or len(body.strip()) < 2 or (max_chars is not None and len(body) > max_chars):
        return False
    key = normalise(body)
    return bool(key) and key not in seen


class FillTools:
    """What filling needs from one loaded ``llama_cpp.Llama``: token bytes, the masked tokens, the chat prompt, the
    tokens of fixed text and a seeded sampler chain (computed once per model, cached)."""

    def __init__(self, llm):
        import llama_cpp

        self.llm, self._llama_cpp = llm, llama_cpp
        self._pieces: dict[int, bytes] = {}
        self._banned: dict[int, float] | None = None
        self._formatter = None

    def piece(self, token: int) -> bytes:
        """The raw bytes of one token (possibly part of a UTF-8 sequence)."""
        if token not in self._pieces:
            self._pieces[token] = self.llm.detokenize([token])
        return self._pieces[token]

    def banned(self) -> dict[int, float]:
        """Logit bias -inf for every token that cannot occur inside a JSON string (computed once per model)."""
        if self._banned is None:
            vocab = self._llama_cpp.llama_model_get_vocab(self.llm.model)
            eog = self._llama_cpp.llama_vocab_is_eog
            self._banned = {
                t: float("-inf")
                for t in range(self.llm.n_vocab())
                if eog(vocab, t) or not (p := self.piece(t)) or min(p) < 0x20
            }
        return self._banned

    def prompt_tokens(self, messages) -> list[int]:
        """The chat prompt as ``create_chat_completion`` builds it from the model's own chat template."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if self._formatter is None:
            llm = self.llm
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise BackendError("template filling needs a model with a chat template in its GGUF metadata")
            eos, bos = llm.token_eos(), llm.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )
        result = self._formatter(messages=list(messages))
        return self.llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    def sampler(self, request: ChatRequest):
        """A fresh sampler chain with ``create_chat_completion``'s samplers and defaults, seeded by the request."""
        from llama_cpp._internals import LlamaSampler

        sampler = LlamaSampler()
        sampler.add_logit_bias(self.llm.n_vocab(), self.banned())
        sampler.add_penalties(
            self.llm.n_vocab(),
            self.llm.last_n_tokens_size,
            request.repeat_penalty,
            request.frequency_penalty,
            request.presence_penalty,
        )
        if request.temperature <= 0:
            sampler.add_greedy()
            return sampler
        sampler.add_top_k(40)
        sampler.add_typical(1.0, 1)
        sampler.add_top_p(request.top_p, 1)
        sampler.add_min_p(0.05, 1)
        sampler.add_temp(request.temperature)
        sampler.add_dist((request.seed or 0) & 0xFFFFFFFF)
        return sampler

    def tokenize(self, text: bytes) -> list[int]:
        """Tokens of fixed text (no BOS, special tokens not parsed)."""
        return self.llm.tokenize(text, add_bos=False, special=False)
