import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
