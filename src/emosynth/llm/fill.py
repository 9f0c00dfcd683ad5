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
from dataclasses import dataclass

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


class TemplateFiller:
    """Fills request templates on one loaded ``llama_cpp.Llama`` (not thread-safe, like the model itself).

    Args:
        llm: the loaded model.
        max_redraws: how often a bad hole is drawn again before the last draw stands.
    """

    def __init__(self, llm, max_redraws: int = 3):
        import llama_cpp

        self.llm, self.max_redraws, self._llama_cpp = llm, max_redraws, llama_cpp
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

    def _sampler(self, request: ChatRequest):
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

    def _evaluate(self, tokens: list[int]) -> None:
        """Evaluate ``tokens`` after what is already in the context, reusing the longest common prefix."""
        llm = self.llm
        keep = 0
        limit = min(llm.n_tokens, len(tokens) - 1)  # at least one token is evaluated: it gives the next logits
        while keep < limit and llm.input_ids[keep] == tokens[keep]:
            keep += 1
        llm.n_tokens = keep
        llm.eval(tokens[keep:])

    def _draw(self, sampler, budget: int) -> tuple[bytes, bytes, int, bool]:
        """Sample one hole within ``budget`` tokens: (its bytes, the part of them not yet evaluated, tokens drawn,
        whether it closed).

        The token that carries the closing quote is drawn but not evaluated: the bytes before the quote are
        evaluated together with the fixed text that follows the hole.
        """
        raw, drawn = b"", 0
        while drawn < budget:
            token = sampler.sample(self.llm._ctx, -1)
            drawn += 1
            piece = self.piece(token)
            at = closing_quote(raw, piece)
            if at >= 0:
                return raw + piece[:at], piece[:at], drawn, True
            raw += piece
            self.llm.eval([token])
        return raw, b"", drawn, False

    def fill(self, request: ChatRequest) -> Filled:
        """Fill ``request.template`` (n + 1 fixed parts around n holes) under the request's sampling settings.

        When a hole still fails after its last redraw, sampling stops: the remaining holes stay empty (the reply is
        valid JSON that validation rejects with its reason), and an unclosed hole makes ``finish_reason`` "length".
        """
        start = time.perf_counter()
        llm, parts = self.llm, request.template
        holes = len(parts) - 1
        prompt = self.prompt_tokens(request.messages)
        fixed = [llm.tokenize(p.encode("utf-8"), add_bos=False, special=False) for p in parts]
        needed = len(prompt) + sum(map(len, fixed)) + request.max_tokens
        if needed > llm.n_ctx():
            raise BackendError(
                f"llama.cpp refused the request: {len(prompt)} prompt + {sum(map(len, fixed))} template + "
                f"{request.max_tokens} new tokens exceed the context window (n_ctx={llm.n_ctx()})"
            )
        budget = max(1, request.max_tokens // max(holes, 1))  # tokens per draw of a hole
        sampler = self._sampler(request)
        try:
            out = self._fill_holes(sampler, prompt, fixed, parts, budget, request.hole_max_chars)
        except RuntimeError as exc:  # llama_decode failed (no room left in the KV cache)
            raise BackendError(f"llama.cpp could not decode: {exc} (n_ctx={llm.n_ctx()})") from exc
        finally:
            sampler.close()
        text, finish, sampled, forced, redraws = out
        return Filled(text, finish, len(prompt), sampled, forced, redraws, time.perf_counter() - start)

    def _fill_holes(self, sampler, prompt, fixed, parts, budget, max_chars) -> tuple[str, str, int, int, int]:
        llm = self.llm
        self._evaluate(prompt + fixed[0])
        text, seen = [parts[0]], set()
        sampled, forced, redraws = 0, len(fixed[0]), 0
        for k in range(len(parts) - 1):
            hole_start = llm.n_tokens
            for attempt in range(self.max_redraws + 1):
                raw, tail, drawn, closed = self._draw(sampler, budget)
                sampled += drawn
                body = string_body(raw) if closed else None
                if acceptable(body, seen, max_chars):
                    break
                if attempt < self.max_redraws:  # draw again from the same prefix
                    redraws += 1
                    llm.n_tokens = hole_start - 1
                    llm.eval([int(llm.input_ids[hole_start - 1])])  # the logits the hole started from
            else:  # the last draw failed too: the reply is lost, stop sampling
                text += [raw.decode("utf-8", errors="replace") if body is not None else "", *parts[k + 1 :]]
                return "".join(text), "stop" if closed else "length", sampled, forced, redraws
            seen.add(normalise(body))
            text += [raw.decode("utf-8", errors="replace"), parts[k + 1]]
            if k + 2 < len(parts):
                after = llm.tokenize(tail + parts[k + 1].encode("utf-8"), add_bos=False, special=False)
                forced += len(after)
                llm.eval(after)
        return "".join(text), "stop", sampled, forced, redraws
