"""Generation pipelines: ERC dialogues (``dialogues.py``)."""
