"""The OpenAI-compatible path against a real llama-cpp-python server on 127.0.0.1 (started by conftest)."""

import http.server
import json
import threading

import pytest

from emosynth.errors import BackendError
from emosynth.llm.base import ChatRequest
from emosynth.llm.openai_compat import OpenAIBackend

from ..conftest import free_port

SCHEMA = {
    "type": "object",
    "properties": {"name": {"const": "Ben"}, "mood": {"enum": ["calm", "angry"]}},
    "required": ["name", "mood"],
    "additionalProperties": False,
}


def req(seed=0, **kw):
    return ChatRequest(
        messages=({"role": "user", "content": "Describe Ben's mood as JSON."},),
        seed=seed,
        max_tokens=kw.pop("max_tokens", 60),
        **kw,
    )


def test_lists_the_served_model_and_completes(llama_server):
    backend = OpenAIBackend(base_url=llama_server)
    assert backend.model_id == "smollm2"
    out = backend.complete(req())
    assert out.text and out.completion_tokens > 0 and out.prompt_tokens > 0


def test_auto_dialect_detects_json_object_schema_on_llama_cpp_python(llama_server):
    backend = OpenAIBackend(base_url=llama_server, model="smollm2", schema_dialect="auto")
    out = backend.complete(req(json_schema=SCHEMA))
    assert backend.dialect == "json_object"
    obj = json.loads(out.text)
    assert obj["name"] == "Ben" and obj["mood"] in ("calm", "angry")


def test_wrong_dialect_is_a_clear_error(llama_server):
    backend = OpenAIBackend(base_url=llama_server, model="smollm2", schema_dialect="json_schema", max_retries=0)
    with pytest.raises(BackendError, match="answered HTTP 500"):
        backend.complete(req(json_schema=SCHEMA))


def test_requests_in_flight_all_come_back(llama_server):
    backend = OpenAIBackend(base_url=llama_server, model="smollm2", concurrency=3)
    got = dict(backend.complete_many([req(seed=i, max_tokens=10) for i in range(5)]))
    assert sorted(got) == [0, 1, 2, 3, 4] and all(c.completion_tokens > 0 for c in got.values())


def test_length_cut_is_reported_as_truncated(llama_server):
    backend = OpenAIBackend(base_url=llama_server, model="smollm2")
    assert backend.complete(req(max_tokens=3)).truncated


def test_server_down_is_one_clear_line():
    port = free_port()
    backend = OpenAIBackend(base_url=f"http://127.0.0.1:{port}/v1", model="x", max_retries=0, timeout=5)
    with pytest.raises(BackendError, match=f"Cannot reach the server at http://127.0.0.1:{port}/v1"):
        backend.complete(req())


class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html>definitely not json</html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_server_answering_garbage_is_one_clear_line():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        backend = OpenAIBackend(base_url=url, model="x", max_retries=0)
        with pytest.raises(BackendError, match="not an OpenAI"):
            backend.complete(req())
    finally:
        server.shutdown()
