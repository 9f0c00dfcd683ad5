import os
import shutil
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


def chrome():
    """Headless Chromium driven by Selenium (skipped without it, unless EMOSYNTH_REQUIRE_CHROMIUM is set)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        message = "chromium and chromium-driver are not installed (scripts/test.sh installs them)"
        if os.environ.get("EMOSYNTH_REQUIRE_CHROMIUM"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1200,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


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
                "-c",  # llama-cpp-python's server, with the AMX guard our backend uses (emosynth.llm.llamacpp)
                "import llama_cpp, runpy; from emosynth.llm.llamacpp import without_amx; without_amx(llama_cpp); "
                "runpy.run_module('llama_cpp.server', run_name='__main__')",
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


WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    ":",
    "anna",
    "ben",
    "i",
    "am",
    "so",
    "happy",
    "angry",
    "today",
    "great",
    "awful",
    "the",
    "weather",
    "is",
    "okay",
    "you",
    "what",
    "hello",
]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A 2-layer, 32-wide BERT and a WordPiece tokenizer, built here from config (nothing downloaded)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    path = tmp_path_factory.mktemp("tiny-bert")
    (path / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tok = transformers.BertTokenizerFast(vocab=str(path / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(path)
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(path)
    return path
