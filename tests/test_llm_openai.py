"""The OpenAI-compatible backend against real servers on loopback.

llama-cpp-python's own server serves the tiny GGUF for the real path; a small scripted HTTP
server stands in for a flaky or strict provider (429, 5xx, 401) to exercise retries and errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal

import pytest
from pydantic import BaseModel

from agents.errors import LLMConnectionError, StructuredOutputError
from agents.llm import ModelPool, describe
from agents.llm.openai import OpenAIChatModel
from agents.settings import LLMSettings, Settings
from tests.fixture_gguf import free_port


class Detail(BaseModel):
    kind: Literal["a", "b"]


class Verdict(BaseModel):
    label: Literal["true", "false", "unclear"]
    sure: bool
    detail: Detail


def test_text_call_against_llama_cpp_server(llama_server: str) -> None:
    model = OpenAIChatModel("tiny", base_url=llama_server, max_tokens=8)
    text = model.complete([{"role": "user", "content": "Hello"}])
    assert isinstance(text, str)
    prompt_tokens, completion_tokens = model.last_usage
    assert prompt_tokens > 0 and 0 < completion_tokens <= 8
    model.close()


def test_structured_call_against_llama_cpp_server(llama_server: str) -> None:
    model = OpenAIChatModel("tiny", base_url=llama_server, schema_mode="json_object", max_tokens=120)
    for seed in range(3):
        model.seed = seed
        verdict = model.complete([{"role": "user", "content": f"Judge {seed}"}], schema=Verdict)
        assert isinstance(verdict, Verdict)


def test_unreachable_server_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    model = OpenAIChatModel("m", base_url=url, max_retries=1, timeout_s=2)
    with pytest.raises(LLMConnectionError) as info:
        model.complete([{"role": "user", "content": "hi"}])
    assert "Cannot reach the model server" in str(info.value) and "\n" not in str(info.value)


class _Flaky(BaseHTTPRequestHandler):
    script: ClassVar[list[tuple[int, dict[str, Any]]]] = []
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        status, payload = self.script.pop(0) if self.script else (500, {"error": {"message": "boom"}})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("retry-after-ms", "5")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }


@pytest.fixture
def flaky() -> Iterator[type[_Flaky]]:
    handler = type("Handler", (_Flaky,), {"script": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def test_429_and_5xx_are_retried_with_backoff(flaky: Any) -> None:
    answer = json.dumps({"label": "true", "sure": True, "detail": {"kind": "a"}})
    flaky.script.extend([(503, {"error": {}}), (429, {"error": {}}), (200, _completion(answer))])
    model = OpenAIChatModel("m", base_url=flaky.base_url, max_retries=3)
    verdict = model.complete([{"role": "user", "content": "x"}], schema=Verdict)
    assert verdict.label == "true" and len(flaky.seen) == 3
    request = flaky.seen[-1]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["title"] == "Verdict"
    assert model.last_usage == (7, 3)


def test_persistent_5xx_and_bad_key_are_typed_errors(flaky: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    model = OpenAIChatModel("m", base_url=flaky.base_url, max_retries=2)
    with pytest.raises(LLMConnectionError, match="HTTP 500"):
        model.complete([{"role": "user", "content": "x"}])
    assert len(flaky.seen) == 3
    flaky.script.append((401, {"error": {"message": "bad key"}}))
    monkeypatch.setenv("QUARRY_TEST_KEY", "sk-wrong")
    keyed = OpenAIChatModel("m", base_url=flaky.base_url, api_key_env="QUARRY_TEST_KEY", max_retries=0)
    with pytest.raises(LLMConnectionError, match="QUARRY_TEST_KEY"):
        keyed.complete([{"role": "user", "content": "x"}])


def test_fenced_json_from_a_server_is_accepted_but_nothing_looser(flaky: Any) -> None:
    fenced = '```json\n{"label": "false", "sure": false, "detail": {"kind": "b"}}\n```'
    # A fenced object passes; prose around JSON does not, twice: the typed error, after one retry.
    flaky.script.extend([(200, _completion(fenced)), (200, _completion("Sure! {'label': 'x'}"))])
    flaky.script.append((200, _completion("still not json")))
    model = OpenAIChatModel("m", base_url=flaky.base_url, max_retries=0)
    assert model.complete([{"role": "user", "content": "x"}], schema=Verdict).label == "false"
    with pytest.raises(StructuredOutputError):
        model.complete([{"role": "user", "content": "x"}], schema=Verdict)
    retry = flaky.seen[-1]["messages"]
    assert retry[-2]["role"] == "assistant" and "not valid JSON" in retry[-1]["content"]


def test_pool_and_describe_with_the_openai_backend(llama_server: str, tmp_path: Any) -> None:
    settings = Settings(
        home=tmp_path / "home",
        llm=LLMSettings(backend="openai", model="tiny", base_url=llama_server, max_tokens=16),
    )
    pool = ModelPool.from_settings(settings)
    assert isinstance(pool.for_role("searcher").complete([{"role": "user", "content": "hi"}]), str)
    assert pool.usage["searcher"].calls == 1
    pool.close()
    report = describe(settings)
    assert report["ok"] and "tiny" in report["served_models"]
    down = Settings(
        home=tmp_path / "home",
        llm=LLMSettings(backend="openai", model="tiny", base_url=f"http://127.0.0.1:{free_port()}/v1"),
    )
    assert not describe(down)["ok"] and "cannot reach" in describe(down)["error"]
