"""The llama.cpp backend on real (tiny, random-weight) GGUF models.

Random weights make the model's own preferences meaningless, which is the point: whatever it
prefers, the grammar must make every structured answer strict JSON valid for the schema.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from agents.errors import LLMError, ModelLoadError, ModelNotFoundError
from agents.llm import ModelPool, describe
from agents.llm.llama import LlamaChatModel, chat_template
from agents.settings import LLMSettings, ModelSettings, Settings
from tests.gguf_factory import write_corrupt_gguf


class Source(BaseModel):
    url: str = Field(min_length=1, max_length=40)
    stance: Literal["supports", "refutes", "neutral"]


class Claim(BaseModel):
    text: str = Field(min_length=1, max_length=60)
    confidence: int = Field(ge=0, le=5)
    sources: list[Source] = Field(min_length=1, max_length=3)
    verified: bool
    note: str | None = Field(default=None, max_length=20)


class Plan(BaseModel):
    questions: list[Annotated[str, Field(min_length=3, max_length=50)]] = Field(min_length=2, max_length=4)
    depth: Literal[1, 2, 3]


class Flat(BaseModel):
    title: str = Field(max_length=30)
    tags: list[Literal["a", "b", "c"]] = Field(max_length=5)


TOOLS_UNION: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "tool": {"const": "search"},
                "arguments": {
                    "type": "object",
                    "properties": {"query": {"type": "string", "maxLength": 30}},
                    "required": ["query"],
                },
            },
            "required": ["tool", "arguments"],
        },
        {
            "type": "object",
            "properties": {
                "tool": {"const": "fetch"},
                "arguments": {
                    "type": "object",
                    "properties": {"url": {"type": "string", "maxLength": 30}, "n": {"type": "integer"}},
                    "required": ["url"],
                },
            },
            "required": ["tool", "arguments"],
        },
    ]
}


@pytest.fixture(scope="module")
def tiny_model(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    model = LlamaChatModel(
        str(tiny_gguf),
        models_dir=tmp_path_factory.mktemp("models"),
        n_ctx=4096,
        temperature=1.0,
        max_tokens=600,
    )
    yield model
    model.close()


def _messages(seed: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "Answer with one JSON object."},
        {"role": "user", "content": f"Question number {seed}: what is true?"},
    ]


@pytest.mark.parametrize("schema", [Claim, Plan, Flat], ids=lambda s: s.__name__)
def test_structured_answers_are_strict_json_every_time(tiny_model: LlamaChatModel, schema: Any) -> None:
    for seed in range(12):
        tiny_model.seed = seed
        raw = tiny_model.generate(_messages(seed), schema=schema)
        data = json.loads(raw.text, strict=True)  # no raw control characters, nothing around it
        schema.model_validate(data)
        assert raw.finish_reason == "stop"
        assert isinstance(tiny_model.complete(_messages(seed), schema=schema), schema)


def test_tool_union_schema_picks_one_tool_with_valid_arguments(tiny_model: LlamaChatModel) -> None:
    seen = set()
    for seed in range(10):
        tiny_model.seed = seed
        answer = tiny_model.complete(_messages(seed), schema=TOOLS_UNION)
        assert answer["tool"] in ("search", "fetch")
        assert len(next(iter(answer["arguments"].values()))) <= 30
        seen.add(answer["tool"])
    assert seen


def test_text_answer_and_usage(tiny_model: LlamaChatModel) -> None:
    text = tiny_model.complete([{"role": "user", "content": "Say something."}], max_tokens=12)
    assert isinstance(text, str)
    prompt_tokens, completion_tokens = tiny_model.last_usage
    assert prompt_tokens > 5 and 0 <= completion_tokens <= 12
    assert tiny_model.last_stats.completion_tokens == completion_tokens


def test_prefix_is_reused_also_when_roles_alternate(tiny_model: LlamaChatModel) -> None:
    documents = " ".join(f"fact{i}" for i in range(150))

    def ask(role: str, question: str) -> int:
        system = f"You are the {role}. Documents: {documents} ({role} copy)"
        tiny_model.complete([{"role": "system", "content": system}, {"role": "user", "content": question}],
                            max_tokens=2)  # fmt: skip
        return tiny_model.last_stats.reused_tokens

    ask("planner", "first?")
    prefix = tiny_model.last_stats.prompt_tokens - 20
    assert ask("planner", "second?") >= prefix
    ask("verifier", "third?")
    assert ask("planner", "fourth?") >= prefix  # back from the RAM cache, not re-evaluated
    assert ask("verifier", "fifth?") >= prefix


def test_without_the_ram_cache_only_the_last_prompt_is_reused(tiny_gguf: Path, tmp_path: Path) -> None:
    model = LlamaChatModel(str(tiny_gguf), models_dir=tmp_path, n_ctx=2048, prefix_cache_mb=0)
    docs = {role: f"You are the {role}. " + " ".join(f"{role}{i}" for i in range(120)) for role in ("a", "b")}
    for role in ("a", "b", "a"):
        model.complete([{"role": "system", "content": docs[role]}, {"role": "user", "content": "q"}], max_tokens=1)
    assert model.last_stats.reused_tokens < 40  # "a" came back after "b": re-evaluated
    assert len(model.load().cache) == 0
    model.close()


def test_parallel_threads_share_one_model_safely(tiny_model: LlamaChatModel) -> None:
    results: list[Any] = []
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            results.append(tiny_model.complete(_messages(seed), schema=Flat))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 4 and all(isinstance(r, Flat) for r in results)


def test_prompt_longer_than_the_context_is_a_clear_error(tiny_gguf: Path, tmp_path: Path) -> None:
    model = LlamaChatModel(str(tiny_gguf), models_dir=tmp_path, n_ctx=512)
    with pytest.raises(LLMError, match="context holds 512"):
        model.complete([{"role": "user", "content": "x" * 2000}])
    model.close()


def test_chat_template_comes_from_the_gguf_or_an_explicit_fallback(
    tiny_gguf: Path, tiny_gguf_no_template: Path, tmp_path: Path
) -> None:
    own = LlamaChatModel(str(tiny_gguf), models_dir=tmp_path, n_ctx=1024)
    assert own.load().template_source == "gguf"
    bare = LlamaChatModel(str(tiny_gguf_no_template), models_dir=tmp_path, n_ctx=1024)
    engine = bare.load()
    assert engine.template_source.startswith("fallback: chatml")
    tokens = bare.render([{"role": "user", "content": "hi"}])
    assert engine.llama.detokenize(tokens, special=True).startswith(b"<|im_start|>user")
    assert isinstance(bare.complete([{"role": "user", "content": "hi"}], max_tokens=4), str)
    own.close()
    bare.close()
    with pytest.raises(ModelLoadError, match="chat_format_fallback"):
        chat_template({}, "llama-2")


def test_missing_and_corrupt_files_are_typed_one_sentence_errors(tmp_path: Path) -> None:
    missing = LlamaChatModel(str(tmp_path / "nope.gguf"), models_dir=tmp_path)
    with pytest.raises(ModelNotFoundError) as info:
        missing.complete([{"role": "user", "content": "hi"}])
    assert "does not exist" in str(info.value) and "\n" not in str(info.value)
    corrupt = LlamaChatModel(str(write_corrupt_gguf(tmp_path / "bad.gguf")), models_dir=tmp_path)
    with pytest.raises(ModelLoadError) as load_info:
        corrupt.complete([{"role": "user", "content": "hi"}])
    assert "could not" in str(load_info.value) and "\n" not in str(load_info.value)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelLoadError, match="too small"):
        LlamaChatModel(str(empty), models_dir=tmp_path).complete([{"role": "user", "content": "hi"}])


def test_pool_from_settings_shares_one_llama_between_roles(tiny_gguf: Path, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home",
        llm=LLMSettings(model=str(tiny_gguf), n_ctx=1024, roles={"drafter": ModelSettings(model=str(tiny_gguf))}),
    )
    pool = ModelPool.from_settings(settings)
    planner, drafter = pool.for_role("planner"), pool.for_role("drafter")
    assert planner.model is drafter.model
    planner.complete([{"role": "user", "content": "a"}], max_tokens=3)
    drafter.complete([{"role": "user", "content": "b"}], schema=Flat)
    assert pool.usage["planner"].calls == 1 and pool.usage["drafter"].completion_tokens > 0
    pool.close()


def test_describe_reports_model_context_and_template(tiny_gguf: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", llm=LLMSettings(model=str(tiny_gguf)))
    report = describe(settings)
    assert report["ok"] and report["chat_template"] == "gguf" and report["context_length"] == 4096
    assert report["path"] == str(tiny_gguf)
    missing = describe(Settings(home=tmp_path / "home", llm=LLMSettings(model=str(tmp_path / "x.gguf"))))
    assert not missing["ok"] and "does not exist" in missing["error"]
    offline = describe(Settings(home=tmp_path / "home"), load=False)
    assert not offline["ok"] and "not downloaded" in offline["error"]
