"""LLM backends behind one small interface; see ``base.py``."""

from emosynth.llm.base import BACKENDS, ChatRequest, Completion, LLMBackend, get_backend

__all__ = ["BACKENDS", "ChatRequest", "Completion", "LLMBackend", "get_backend"]
