import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from emosynth.data.paths import data_root  # noqa: E402
from emosynth.errors import ConfigError  # noqa: E402


def _shared_data() -> Path | None:
    try:
        return data_root()
    except ConfigError:
        return None


SHARED = _shared_data()
needs_data = pytest.mark.skipif(SHARED is None or not (SHARED / "meld").is_dir(), reason="no ../shared/data here")


@pytest.fixture(scope="session")
def smollm():
    """The real SmolLM2-135M llama.cpp backend, loaded once."""
    from emosynth.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend("smollm2-135m", n_ctx=2048)
    yield backend
    backend.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama-cpp-python's own OpenAI-compatible server with SmolLM2 on 127.0.0.1 (a real server)."""
    from emosynth.llm.embedded import model_path

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model_path("smollm2-135m")),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--model_alias",
                "smollm2",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
