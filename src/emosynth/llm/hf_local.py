"""A local Hugging Face causal-LM directory run on CPU with transformers (slow; needs no compiler).

JSON schemas are not enforced while decoding here; the schema is appended to the prompt and the
output is validated afterwards like any other backend's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from emosynth.errors import ModelFileError, requires
from emosynth.llm.base import ChatRequest, Completion, LLMBackend


class TransformersBackend(LLMBackend):
    """Args:
    model: path to a local Hugging Face model directory with a tokenizer that has a chat template.
    """

    name = "transformers"

    def __init__(self, model: str | None = None, n_threads: int | None = None):
        self.torch = requires("torch", "transformers")
        transformers = requires("transformers", "transformers")
        if not model or not Path(model).is_dir():
            raise ModelFileError(f"The transformers backend needs a local model directory; got {model!r}")
        if n_threads:
            self.torch.set_num_threads(n_threads)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model, local_files_only=True)
        self.model = transformers.AutoModelForCausalLM.from_pretrained(model, local_files_only=True)
        self.model.eval()
        self.model_id = Path(model).resolve().name

    def _messages(self, request: ChatRequest) -> list[dict[str, str]]:
        messages = [dict(m) for m in request.messages]
        if request.json_schema is not None:
            messages[-1]["content"] += "\nAnswer with JSON only, following this schema:\n" + json.dumps(
                request.json_schema
            )
        return messages

    def complete(self, request: ChatRequest) -> Completion:
        """Generate one reply with ``model.generate`` (seeded; the schema only asked for in the prompt)."""
        start = time.perf_counter()
        ids = self.tokenizer.apply_chat_template(
            self._messages(request), add_generation_prompt=True, return_tensors="pt"
        )
        if not isinstance(ids, self.torch.Tensor):  # newer tokenizers return a BatchEncoding
            ids = ids["input_ids"]
        if request.seed is not None:
            self.torch.manual_seed(request.seed)
        with self.torch.no_grad():
            out = self.model.generate(
                ids,
                attention_mask=self.torch.ones_like(ids),
                do_sample=request.temperature > 0,
                temperature=max(request.temperature, 1e-5),
                top_p=request.top_p,
                max_new_tokens=request.max_tokens,
                repetition_penalty=request.repeat_penalty,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        new = out[0, ids.shape[1] :]
        eos = self.tokenizer.eos_token_id
        stopped = eos is not None and len(new) > 0 and int(new[-1]) == eos
        return Completion(
            text=self.tokenizer.decode(new, skip_special_tokens=True),
            finish_reason="stop" if stopped or len(new) < request.max_tokens else "length",
            prompt_tokens=int(ids.shape[1]),
            completion_tokens=int(len(new)),
            model=self.model_id,
            seconds=time.perf_counter() - start,
        )
