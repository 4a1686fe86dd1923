"""The ``runs`` command (list, show, delete with checkpoints) and the manifest completion, over run
folders laid out as publish writes them and a real LangGraph SQLite checkpoint store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import app as quarry
from agents.settings import Settings
from tests.cli_harness import real_app_env
from tests.export_samples import sample_report, write_run_folder
from tests.scripted_openai import ScriptedOpenAI
from ui.cli.commands.runs import list_runs, show_run
from ui.errors import BadInputError, RunNotFoundError
from ui.manifest import complete_manifest, file_sha256
from ui.run_files import delete_checkpoints


def make_runs(runs_dir: Path) -> None:
    write_run_folder(runs_dir, sample_report("20261122-070000-aaaaaa", "First question?"))
    later = sample_report("20261122-080000-bbbbbb", "Second <b>question</b>?")
    later.created_at = "2026-11-22T08:00:00Z"
    write_run_folder(runs_dir, later)
    (runs_dir / later.run_id / "run.json").write_text(json.dumps(
        {"run_id": later.run_id, "question": later.question, "created": "2026-11-22T08:00:00Z",
         "status": "complete", "options": {"limits": {"max_pages": 7}}}), encoding="utf-8")
    paused = runs_dir / "20261122-090000-cccccc"
    paused.mkdir()
    (paused / "run.json").write_text(json.dumps({"run_id": paused.name, "question": "Paused?",
                                                 "created": "2026-11-22T09:00:00Z", "status": "paused"}))
    (runs_dir / "not a run!").mkdir()


def test_list_and_show(tmp_path: Path) -> None:
    make_runs(tmp_path)
    rows = list_runs(tmp_path)
    assert [r.run_id for r in rows] == ["20261122-090000-cccccc", "20261122-080000-bbbbbb", "20261122-070000-aaaaaa"]
    assert [r.status for r in rows] == ["paused", "complete", "complete"]
    shown = show_run(tmp_path, "20261122-080000-bbbbbb")
    assert shown["question"] == "Second <b>question</b>?" and shown["references"] == 3
    assert "report.json" in shown["files"] and shown["options"] == {"limits": {"max_pages": 7}}
    assert shown["cost"] is None  # a folder without a cost record (written before costs were kept)
    folder = tmp_path / "20261122-080000-bbbbbb"
    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").is_file() else {}
    manifest["cost"] = {"calls": 14, "prompt_tokens": 16_000, "completion_tokens": 3_000, "wall_s": 220.0}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert show_run(tmp_path, "20261122-080000-bbbbbb")["cost"] == "14 model calls, 19k tokens, 3 m 40 s"
    with pytest.raises(RunNotFoundError):
        show_run(tmp_path, "20990101-000000-ffffff")
    with pytest.raises(BadInputError):
        show_run(tmp_path, "../etc")


def test_runs_command_end_to_end(settings: Settings, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    make_runs(settings.runs_dir)
    assert quarry.main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 3
    assert quarry.main(["runs", "--json", "show", "20261122-070000-aaaaaa"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "complete"
    assert quarry.main(["runs", "show", "nope-nope"]) == 2
    assert "There is no run 'nope-nope'" in capsys.readouterr().err
    assert quarry.main(["runs"]) == 0
    shown = capsys.readouterr().out
    assert "Second <b>" in shown and "20261122-090000-cccccc" in shown and "paused" in shown


def test_delete_removes_folder_and_checkpoints(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from langgraph.checkpoint.base import empty_checkpoint
    from langgraph.checkpoint.sqlite import SqliteSaver

    make_runs(settings.runs_dir)
    keep, gone = "20261122-070000-aaaaaa", "20261122-080000-bbbbbb"
    settings.home.mkdir(parents=True, exist_ok=True)
    with SqliteSaver.from_conn_string(str(settings.checkpoints_path)) as saver:
        for thread in (keep, gone):
            config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
            saver.put(config, empty_checkpoint(), {"source": "input", "step": -1}, {})  # type: ignore[arg-type]
    assert quarry.main(["runs", "delete", gone]) == 0
    assert "memory keeps what it learned" in capsys.readouterr().out
    assert not (settings.runs_dir / gone).exists() and (settings.runs_dir / keep).is_dir()
    with sqlite3.connect(settings.checkpoints_path) as conn:
        threads = {row[0] for row in conn.execute("SELECT thread_id FROM checkpoints")}
    assert threads == {keep}
    assert delete_checkpoints(settings.home / "absent.sqlite", keep) is False
    assert quarry.main(["runs", "delete", gone]) == 2


def test_complete_manifest(settings: Settings, tmp_path: Path) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF" + bytes(1000))
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": str(model)})})
    folder = write_run_folder(settings.runs_dir, sample_report("r-m"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(limits={"max_pages": 10, "max_tokens": 1000, "max_minutes": 2, "depth": 1, "max_hops": 1},
                    pages_fetched=4, tokens={"planner": {"prompt_tokens": 100, "completion_tokens": 20}},
                    phases={"plan": 1.5, "search": 4.5}, budget_out=["pages"], quarry_version="keep-me")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    data = complete_manifest(folder, settings, "9.9.9")
    assert data["quarry_version"] == "keep-me"  # never overwritten
    assert data["models"]["drafter"]["sha256"] == file_sha256(model) and data["models"]["planner"]["size"] == 1004
    assert data["search_backends"] == ["duckduckgo"] and data["settings"]["budget"]["max_pages"] == 40
    assert data["budget_use"]["pages"] == {"used": 4, "limit": 10}
    assert data["budget_use"]["tokens"] == {"used": 120, "limit": 1000}
    assert data["budget_use"]["minutes"] == {"used": 0.1, "limit": 2} and data["budget_use"]["ran_out"] == ["pages"]
    assert json.loads((folder / "manifest.json").read_text()) == data
    assert (settings.cache_dir / "model-hashes.json").is_file()


@pytest.fixture
def embeddings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Embeddings from the scripted OpenAI-compatible loopback server, through the real settings."""
    with ScriptedOpenAI(lambda messages, schema: {}) as server:
        for name, value in real_app_env(server.base_url, "http://127.0.0.1:9").items():
            monkeypatch.setenv(name, value)
        yield


def hashing_app(settings: Settings) -> quarry.App:
    """The real app, built from the environment's settings, with its data directory in ``settings.home``."""
    return quarry.build_app(home=settings.home)


@pytest.mark.usefixtures("embeddings")
def test_delete_forget_removes_what_the_run_fetched(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    app = hashing_app(settings)
    memory = app.memory()
    mine, _ = memory.add_source("http://127.0.0.1/mine.html", "Mine", "Perovskite cells degrade in humid air. " * 5,
                                run_id="r-forget")
    reused, _ = memory.add_source("http://127.0.0.1/old.html", "Old", "Silicon cells last for decades. " * 5,
                                  run_id="earlier")
    folder = write_run_folder(settings.runs_dir, sample_report("r-forget"))
    (folder / "sources.json").write_text(json.dumps([
        {"url": "http://127.0.0.1/mine.html", "status": "fetched", "source_id": mine.id},
        {"url": "http://127.0.0.1/old.html", "status": "memory", "source_id": reused.id},
    ]))
    assert quarry.main(["runs", "delete", "r-forget", "--forget"], app=hashing_app(settings)) == 0
    assert "chunks forgotten from memory" in capsys.readouterr().out
    app.close()
    app = hashing_app(settings)
    assert app.memory().get_source(mine.id) is None and app.memory().get_source(reused.id) is not None
    app.close()


@pytest.mark.usefixtures("embeddings")
def test_corpus_is_indexed_and_searched_locally(settings: Settings, tmp_path: Path) -> None:
    from ui.cli.engine import index_corpus

    corpus = tmp_path / "papers"
    corpus.mkdir()
    (corpus / "notes.md").write_text("# Perovskite notes\n\nOur lab measured a band gap of 1.58 eV.\n")
    app = hashing_app(settings)
    index_corpus(app, corpus, quiet=True)
    assert app.settings.search.backends == ["local", "searxng"]
    source = app.memory().source_by_url(str((corpus / "notes.md").resolve()))
    assert source is not None and source.kind == "local"
    index_corpus(app, corpus, quiet=True)  # incremental: unchanged, nothing duplicated
    assert app.settings.search.backends == ["local", "searxng"]
    assert app.memory().stats()["sources_by_kind"] == {"web": 0, "local": 1}
    app.close()
