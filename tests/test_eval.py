"""``quarry eval`` end to end: the real app and CLI over a loopback test web built from a generated data set.

The chat model is a scripted OpenAI-compatible server (the real HTTP path through the openai SDK), a
random-weight GGUF (the real llama.cpp path), or none at all (the floor baseline); search, fetching,
the guard, extraction and memory are the product's own. Also: a bad data set file, a run that fails,
and an ``eval.html`` that escapes hostile page text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import app as quarry
from agents.errors import LLMConnectionError
from tests.research_brain import Brain
from tests.scripted_openai import ScriptedOpenAI

HOSTILE = '<script>alert("eval")</script>'

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "q1", "type": "bridge",
        "question": "Which river flows through the capital of Veloria?",
        "answer": "Tarn", "aliases": ["River Tarn"],
        "supporting": ["Veloria", "Marsden"],
        "pages": [
            {"title": "Veloria", "text": "Veloria is a small inland country in the northern hills. "
                                         "The capital of Veloria is Marsden, its largest city."},
            {"title": "Marsden", "text": "Marsden is a city built on both banks of the river Tarn. "
                                         "The river Tarn flows through Marsden from the western lakes."},
            {"title": "Ostrava Hills", "text": "The Ostrava Hills are a range of low mountains with pine forests."},
            {"title": "Quellin", "text": "Quellin is a harbour town famous for its lighthouse and fish market."},
        ],
    },
    {
        "id": "q2", "type": "comparison",
        "question": "Who was born first, Ada Brenholt or Tomas Vey?",
        "answer": "Ada Brenholt",
        "supporting": ["Ada Brenholt", "Tomas Vey"],
        "pages": [
            {"title": "Ada Brenholt", "text": "Ada Brenholt (born 12 March 1901) was a Velorian chemist. "
                                              "Ada Brenholt studied crystals in Marsden."},
            {"title": "Tomas Vey", "text": "Tomas Vey (born 4 June 1923) was a painter from Quellin. "
                                           "Tomas Vey painted the lighthouse many times."},
            {"title": "Crystal growth", "text": "Crystal growth is the process where a crystal forms in a solution."},
            {"title": "Painting", "text": f"Painting is the practice of applying paint to a surface. {HOSTILE}"},
        ],
    },
    {
        "id": "q3", "type": "bridge",
        "question": "What instrument did the founder of the Quellin Lighthouse Band play? FAIL",
        "answer": "trumpet",
        "supporting": ["Quellin Lighthouse Band", "Jory Penn"],
        "pages": [
            {"title": "Quellin Lighthouse Band", "text": "The Quellin Lighthouse Band was founded by Jory Penn "
                                                         "in 1950 and plays brass music in Quellin."},
            {"title": "Jory Penn", "text": "Jory Penn was a musician who played the trumpet in brass bands."},
            {"title": "Brass band", "text": "A brass band is a musical group of brass instruments."},
        ],
    },
]


class EvalBrain(Brain):
    """The research brain, planning the question itself; its server fails for a question with FAIL in it."""

    def __call__(self, messages: Sequence[dict[str, str]], schema: Any) -> Any:
        """Answer one call (or fail like a model server that went away)."""
        if "FAIL" in messages[-1]["content"]:
            raise LLMConnectionError("The model server cannot be reached; start it.")
        return super().__call__(messages, schema)

    def _plan(self, messages: Sequence[dict[str, str]], schema: dict[str, Any]) -> dict[str, Any]:
        question = re.search(r"Question: (.*)", messages[-1]["content"])
        text = question.group(1) if question else "question"
        return {"brief": "A brief.", "outline": ["Answer"],
                "subquestions": [{"question": text, "queries": [text], "section": "Answer"}]}


def write_dataset(path: Path, items: list[dict[str, Any]]) -> Path:
    """The generic JSON-lines format, one question a line."""
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n", encoding="utf-8")
    return path


def embedding_env(monkeypatch: pytest.MonkeyPatch, server: ScriptedOpenAI) -> None:
    """Embeddings from the scripted server's deterministic hashing embedder (no model download)."""
    monkeypatch.setenv("QUARRY_MEMORY__EMBEDDING_BACKEND", "openai")
    monkeypatch.setenv("QUARRY_MEMORY__EMBEDDING_BASE_URL", server.base_url)
    monkeypatch.setenv("QUARRY_MEMORY__EMBEDDING_MODEL", "hashing")
    monkeypatch.setenv("QUARRY_LLM__MAX_RETRIES", "0")
    monkeypatch.setenv("QUARRY_FETCH__RETRIES", "0")


def run_eval(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    code = quarry.main(["eval", *argv])
    printed = capsys.readouterr()
    lines = [line for line in printed.out.splitlines() if line.startswith("{")]
    return code, (json.loads(lines[-1]) if lines else {}), printed.err


BUDGET = ["--depth", "0", "--breadth", "2", "--max-pages", "6", "--max-minutes", "3"]


def test_eval_scores_a_scripted_model_over_http_beside_the_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = write_dataset(tmp_path / "qa.jsonl", QUESTIONS)
    out = tmp_path / "eval"
    with ScriptedOpenAI(EvalBrain()) as server:
        embedding_env(monkeypatch, server)
        code, result, err = run_eval([str(dataset), "--llm", "openai", "--base-url", server.base_url,
                                      "--llm-model", "scripted", "--baseline", "floor", "--out", str(out),
                                      *BUDGET], capsys)
    assert code == 0, err
    assert set(result["configs"]) == {"floor", "model: scripted"}
    floor, model = result["configs"]["floor"], result["configs"]["model: scripted"]
    assert floor["n"] == model["n"] == 3
    assert floor["means"]["finished"] == 1.0 and floor["means"]["unfetched"] == 0
    assert floor["means"]["read_recall"] >= 0.5  # the question's own search finds its pages
    assert floor["means"]["cited_recall"] > 0 and floor["means"]["tokens"] == 0
    assert model["means"]["unfetched"] == 0 and model["means"]["tokens"] > 0
    assert model["means"]["calls"] > 0 and model["means"]["prompt_tokens"] > 0 and floor["means"]["calls"] == 0
    assert "plan" in model["cost"]["phases"] and model["cost"]["roles"]["planner"]["calls"] > 0
    assert result["settings"]["mode"]["name"] in ("quick", "standard")  # one mode for both configurations
    rows = json.loads((out / "eval.json").read_text())["configs"]["model: scripted"]["rows"]
    assert {r["mode"] for r in rows if r["finished"]} == {result["settings"]["mode"]["name"]}
    by_id = {r["id"]: r for r in rows}
    assert by_id["q3"]["finished"] is False and by_id["q3"]["error"]  # the run that failed is scored, not fatal
    assert by_id["q1"]["finished"] is True and by_id["q1"]["read_recall"] > 0
    assert model["means"]["finished"] == pytest.approx(2 / 3, abs=1e-3)
    assert "by_kind" in model and set(model["by_kind"]) == {"bridge", "comparison"}
    page = (out / "eval.html").read_text()
    assert "Content-Security-Policy" in page and "<script" not in page.replace("&lt;script", "")
    folders = {Path(r["folder"]).parent.parent for r in rows}
    assert len(folders) == 3  # one data directory per question: nothing leaks between them


def test_eval_over_a_random_weight_gguf_still_does_the_floors_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tiny_gguf: Path
) -> None:
    dataset = write_dataset(tmp_path / "qa.jsonl", QUESTIONS[:2])
    with ScriptedOpenAI(EvalBrain()) as server:
        embedding_env(monkeypatch, server)
        monkeypatch.setenv("QUARRY_LLM__MAX_TOKENS", "96")
        code, result, err = run_eval([str(dataset), "--model", str(tiny_gguf), "--out", str(tmp_path / "e"),
                                      "--json", *BUDGET], capsys)
    assert code == 0, err
    (name, conf), = result["configs"].items()
    assert name == f"model: {tiny_gguf.name}"
    assert conf["means"]["finished"] == 1.0 and conf["means"]["unfetched"] == 0
    assert conf["means"]["read_recall"] >= 0.5 and conf["means"]["tokens"] > 0


def test_the_floor_alone_answers_from_the_pages_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = write_dataset(tmp_path / "qa.jsonl", QUESTIONS[:1])
    with ScriptedOpenAI(EvalBrain()) as server:
        embedding_env(monkeypatch, server)
        code, result, err = run_eval([str(dataset), "--llm", "none", "--out", str(tmp_path / "e"), "--json",
                                      *BUDGET], capsys)
    assert code == 0, err
    floor = result["configs"]["floor"]["means"]
    assert floor["finished"] == 1.0 and floor["read_recall"] == 1.0 and floor["answer_in_report"] == 1.0
    rows = json.loads((tmp_path / "e" / "eval.json").read_text())["configs"]["floor"]["rows"]
    assert "Tarn" in rows[0]["predicted"]


@pytest.mark.parametrize(("content", "said"), [
    ('{"question": "q?", "answer": "a", "pages": [{"title": "A", "text": "t"}], "supporting": ["A"]}\nnot json\n',
     "line 2"),
    ('{"question": "q?", "pages": [{"title": "A", "text": "t"}], "supporting": ["A"]}\n', "line 1"),
])
def test_a_bad_dataset_is_one_sentence_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, said: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    code = quarry.main(["eval", str(path), "--llm", "none"])
    err = capsys.readouterr().err
    assert code == 2
    assert said in err and "bad.jsonl" in err and len(err.strip().splitlines()) == 1
    assert quarry.main(["eval", str(tmp_path / "missing.jsonl"), "--llm", "none"]) == 2
