"""emosynth: synthesize emotion-recognition training data with LLMs."""

__version__ = "0.1.0"
