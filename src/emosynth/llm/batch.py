"""Template filling of many requests at once: continuous batching over the sequences of one llama.cpp context.

The in-process form of llama.cpp's ``batched`` example and of its server's parallel slots. Up to ``slots`` requests
are decoded together, each as one sequence of a context of its own on the already loaded model: every
``llama_decode`` call carries the next token of every sequence that is sampling and the fixed text of every
sequence that has just closed a hole, so the weights are read once for all of them. A finished request frees its
sequence and the next one in line takes it over at once. The chat-template prefix that all prompts of a call share
is evaluated once and copied into each sequence (``llama_memory_seq_cp``).

A request that names a chooser (best-of-n, ``ChatRequest.hole_candidates``) has each hole drawn that many times
from the same prefix; the chooser scores the candidates for the hole's label and the best one is kept: if it is
not the last one drawn, the sequence is rewound to the hole and the kept text evaluated in one batch. A hole whose
best candidate scores below the request's ``hole_min_score`` is drawn again as many times (``hole_rounds`` rounds
at most) before the best of all is kept: a weak turn costs a few more candidates, not its whole dialogue.

Each request keeps its own seeded sampler chain, so answers do not depend on the order requests arrive in; with one
slot the decoding is that of a single sequence, token for token. With several, the floating-point sums of a
batch differ slightly from those of a single sequence, so a request can come out differently under another
``slots`` setting (equally valid; a run with the same setting repeats itself).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from emosynth.errors import BackendError
from emosynth.llm.base import ChatRequest
from emosynth.llm.fill import Filled, FillState, FillTools, acceptable, closing_quote, string_body
from emosynth.text import normalise


class BatchFiller:
    """Fills request templates, ``slots`` at a time, on a context of its own over ``llm``'s loaded weights.

    Args:
        llm: the loaded ``llama_cpp.Llama``.
        slots: sequences decoded together.
        n_ctx: the context window of each sequence (the backend's ``n_ctx``).
        max_redraws: how often a bad hole is drawn again before the last draw stands.
        n_batch: the most tokens one ``llama_decode`` call takes.
        choosers: the choosers of best-of-n requests by identity (``emosynth.judge.Chooser``).
    """

    def __init__(
        self, llm, slots: int, n_ctx: int, max_redraws: int = 3, n_batch: int = 512, choosers: dict | None = None
    ):
        import llama_cpp
        from llama_cpp._internals import LlamaBatch, LlamaContext
        from llama_cpp._utils import suppress_stdout_stderr

        self.tools, self.slots, self.n_ctx, self.max_redraws = FillTools(llm), slots, n_ctx, max_redraws
        self.choosers = choosers if choosers is not None else {}
        self._llama_cpp = llama_cpp
        params = llama_cpp.llama_context_default_params()
        # one KV cache shared by all sequences: copying the common prefix only tags its cells
        params.n_ctx = slots * n_ctx + n_batch
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = slots + 1  # the last sequence holds the shared prefix
        params.kv_unified = True
        params.n_threads = llm.context_params.n_threads
        params.n_threads_batch = llm.context_params.n_threads_batch
        params.flash_attn_type = llm.context_params.flash_attn_type
        try:
            # quiet: llama.cpp warns that the shared cache is longer than the model's training context, but
            # positions count per sequence, and each stays within n_ctx
            with suppress_stdout_stderr(disable=False):
                self.ctx = LlamaContext(model=llm._model, params=params, verbose=False)
        except ValueError as exc:
            raise BackendError(f"llama.cpp could not make a context for {slots} parallel sequences: {exc}") from exc
        self.batch = LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=1, verbose=False)
        self.n_batch = n_batch

    def close(self) -> None:
        """Free the context and the batch (the model stays loaded)."""
        self.batch.close()
        self.ctx.close()

    def fill(self, request: ChatRequest) -> Filled:
        """Fill one request's template."""
        return next(self.fill_many([request]))[1]

    def fill_many(self, requests: Sequence[ChatRequest]) -> Iterator[tuple[int, Filled]]:
        """Fill every request's template; yields ``(position, filled)`` as each finishes.

        Every request is checked against the context window before anything is decoded.
        """
        tools = self.tools
        prompts = [tools.prompt_tokens(r.messages) for r in requests]
        fixed = [[tools.tokenize(p.encode("utf-8")) for p in r.template] for r in requests]
        for request, prompt, parts in zip(requests, prompts, fixed):
            if len(prompt) + sum(map(len, parts)) + request.max_tokens > self.n_ctx:
                raise BackendError(
                    f"llama.cpp refused the request: {len(prompt)} prompt + {sum(map(len, parts))} template + "
                    f"{request.max_tokens} new tokens exceed the context window (n_ctx={self.n_ctx})"
                )
            if request.chooser is not None:
                if request.chooser not in self.choosers:
                    raise BackendError(f"no chooser {request.chooser!r} is set on this backend (set_chooser)")
                if len(request.hole_labels or ()) != len(request.template) - 1:
                    raise BackendError("a request with a chooser needs one label per hole (hole_labels)")
        self.ctx.kv_cache_clear()
        prefix = self._shared_prefix(prompts)
        waiting = list(range(len(requests)))[::-1]
        running: dict[int, FillState] = {}
        try:
            while waiting or running:
                for seq in range(self.slots):
                    if seq not in running and waiting:
                        i = waiting.pop()
                        running[seq] = self._start(i, seq, requests[i], prompts[i], fixed[i], prefix)
                self._step(running)
                for seq, fill in list(running.items()):
                    if fill.result is not None:
                        del running[seq]
                        fill.sampler.close()
                        self.ctx.kv_cache_seq_rm(seq, -1, -1)
                        yield fill.index, fill.result
        except RuntimeError as exc:  # llama_decode failed (no room left in the KV cache)
            raise BackendError(f"llama.cpp could not decode: {exc} (n_ctx={self.n_ctx})") from exc
        finally:
            for fill in running.values():
                fill.sampler.close()

    def _shared_prefix(self, prompts: list[list[int]]) -> list[int]:
        """Evaluate the tokens every prompt starts with once, into the prefix sequence (none for one prompt)."""
        if len(prompts) < 2:
            return []
        n = 0
        shortest = min(map(len, prompts)) - 1  # each prompt keeps a token of its own: it gives the first logits
        while n < shortest and all(p[n] == prompts[0][n] for p in prompts):
            n += 1
        prefix = prompts[0][:n]
        for start in range(0, n, self.n_batch):
            self.batch.reset()
            for k, token in enumerate(prefix[start : start + self.n_batch]):
                self._add(token, start + k, self.slots, False)
            self.ctx.decode(self.batch)
        return prefix

    def _start(self, index, seq, request, prompt, fixed, prefix) -> FillState:
        if prefix:
            self.ctx.kv_cache_seq_cp(self.slots, seq, -1, -1)
        holes = len(request.template) - 1
        return FillState(
            chooser=self.choosers.get(request.chooser) if request.chooser is not None else None,
            want=max(1, request.hole_candidates),
            min_score=request.hole_min_score,
            rounds=request.hole_rounds,
            repeats=request.hole_repeats,
            labels=request.hole_labels or (),
            index=index,
            seq=seq,
            sampler=self.tools.sampler(request),
            parts=request.template,
            fixed_tokens=len(fixed[0]),
            budget=max(1, request.max_tokens // max(holes, 1)),
            max_chars=request.hole_max_chars,
            prompt_tokens=len(prompt),
            pending=prompt[len(prefix) :] + fixed[0],
            pos=len(prefix),
            text=[request.template[0]],
        )

    def _add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        batch = self.batch.batch
        i = batch.n_tokens
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, pos, 1, logits
        batch.seq_id[i][0] = seq
        batch.n_tokens = i + 1
        return i

    def _step(self, running: dict[int, FillState]) -> None:
        """One ``llama_decode``: the pending tokens of the running fills (as many as fit), then one sample each for
        the fills whose pending tokens are all in."""
        self.batch.reset()
        room, ready = self.n_batch, []
        for fill in running.values():
            take = fill.pending[:room]
            if not take:
                continue
            done = len(take) == len(fill.pending)
            for k, token in enumerate(take):
                row = self._add(token, fill.pos + k, fill.seq, done and k == len(take) - 1)
            fill.pos += len(take)
            fill.pending = fill.pending[len(take) :]
            room -= len(take)
            if done:
                if fill.drawn == 0 and not fill.raw:  # the fixed text before a hole is in: the hole starts here
                    fill.hole_pos, fill.before_hole = fill.pos, take[-1]
                ready.append((fill, row))
        self.ctx.decode(self.batch)
        for fill, row in ready:
            self._advance(fill, fill.sampler.sample(self.ctx, row))

    def _advance(self, fill: FillState, token: int) -> None:
        """Take one sampled token: go on sampling, close the hole (accepting it or drawing it again), or finish."""
        fill.sampled += 1
        fill.drawn += 1
        piece = self.tools.piece(token)
        at = closing_quote(fill.raw, piece)
        if at < 0 and fill.drawn < fill.budget:
            fill.raw += piece
            fill.pending = [token]
            return
        closed = at >= 0
        raw = fill.raw + piece[:at] if closed else fill.raw + piece
        body = string_body(raw) if closed else None
        fill.raw, fill.drawn = b"", 0
        if acceptable(body, set() if fill.repeats else fill.seen, fill.max_chars):
            if fill.chooser is None:
                self._next_hole(fill, body, raw, piece[:at])
                return
            fill.candidates.append((body, raw, piece[:at]))
            if len(fill.candidates) < fill.want * (fill.round + 1):
                self._rewind(fill)  # the next candidate, from the same prefix
            else:
                self._choose(fill, last_in_cache=True)
        elif fill.attempt < self.max_redraws:  # draw again from the same prefix
            fill.attempt += 1
            fill.redraws += 1
            self._rewind(fill)
        elif fill.candidates:  # best-of-n: fewer candidates than wanted, choose among those
            self._choose(fill, last_in_cache=False)
        else:  # the last draw failed too: the reply is lost (validation rejects it), stop sampling
            last = raw.decode("utf-8", errors="replace") if body is not None else ""
            fill.text += [last, *fill.parts[fill.hole + 1 :]]
            fill.finish("stop" if closed else "length")

    def _rewind(self, fill: FillState) -> None:
        """Forget the hole drawn so far: the sequence goes back to the token before the hole."""
        self.ctx.kv_cache_seq_rm(fill.seq, fill.hole_pos - 1, -1)
        fill.pos, fill.pending = fill.hole_pos - 1, [fill.before_hole]

    def _choose(self, fill: FillState, last_in_cache: bool) -> None:
        """Keep the candidate the chooser scores best for the hole's label (the earliest of equals)."""
        candidates = fill.candidates
        scored = fill.chooser.score(fill.labels[fill.hole], [c[0] for c in candidates], list(fill.kept))
        best = max(range(len(candidates)), key=lambda i: (scored[i][0], -i))
        if fill.min_score is not None and scored[best][0] < fill.min_score and fill.round + 1 < fill.rounds:
            fill.round += 1  # too weak: another round of candidates from the same prefix, then the best of all
            self._rewind(fill)
            return
        fill.candidates, fill.round = [], 0
        fill.scores.append(float(scored[best][0]))
        fill.agree.append(bool(scored[best][1]))
        fill.counts.append(len(candidates))
        body, raw, tail = candidates[best]
        fill.chooser.kept(fill.labels[fill.hole], body)
        rewind = not (last_in_cache and best == len(candidates) - 1)
        self._next_hole(fill, body, raw, tail, rewind)

    def _next_hole(self, fill: FillState, body: str, raw: bytes, tail: bytes, rewind: bool = False) -> None:
        """The hole stands: write it and the fixed text after it; evaluate that text (with the part of the closing
        token before its quote) unless the reply is complete. ``rewind``: the sequence holds another draw of the
        hole, so it goes back to the hole and evaluates the kept text too."""
        fill.seen.add(normalise(body))
        fill.kept.append(body)
        fill.hole += 1
        fill.attempt = 0
        fill.text += [raw.decode("utf-8", errors="replace"), fill.parts[fill.hole]]
        if fill.hole == len(fill.parts) - 1:
            fill.finish("stop")
            return
        if rewind:
            self._rewind(fill)
            after = self.tools.tokenize(raw + fill.parts[fill.hole].encode("utf-8"))
            fill.pending += after
        else:
            after = self.tools.tokenize(tail + fill.parts[fill.hole].encode("utf-8"))
            fill.pending = after
        fill.fixed_tokens += len(after)
