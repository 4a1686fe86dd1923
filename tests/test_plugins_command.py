"""``python app.py tools``: every tool with its origin and schema, from the settings file's MCP servers,
the installed example plugin and the built-ins; ``tools call`` runs one; problems are one line each."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import pytest

import app
from tests.plugin_support import ECHO_SERVER, ArxivStandIn


def write_settings(tmp_path: Path, text: str) -> None:
    """A ``quarry.toml`` in the working directory (the test's ``tmp_path``)."""
    (tmp_path / "quarry.toml").write_text(text)


def echo_server_toml(name: str = "echo") -> str:
    return (
        f"[mcp_servers.{name}]\n"
        f"command = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(ECHO_SERVER))}]\n"
    )


def test_tools_lists_builtins_plugins_and_mcp_tools_with_origin_and_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example_plugin: metadata.Distribution
) -> None:
    write_settings(tmp_path, echo_server_toml() + '\n[mcp_servers.ghost]\ncommand = "no-such-mcp-server"\n')
    assert app.main(["tools", "--json"]) == 0
    out, err = capsys.readouterr()
    listed = {tool["name"]: tool for tool in json.loads(out)}
    assert listed["arxiv_search"]["origin"] == f"plugin:quarry-plugin-example {example_plugin.version}"
    assert listed["echo.echo"]["origin"] == "mcp:echo"
    assert listed["fetch_url"]["origin"] == "built-in"
    assert listed["echo.echo"]["parameters"]["properties"]["text"] == {
        "title": "Text", "type": "string", "maxLength": 1000
    }
    assert listed["arxiv_search"]["parameters"]["required"] == ["query"]
    assert err.strip().splitlines() == [
        "quarry: MCP server ghost could not start: the command 'no-such-mcp-server' was not found; "
        "fix mcp_servers.ghost.command in the settings file."
    ]


def test_text_listing_and_no_mcp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_settings(tmp_path, echo_server_toml())
    assert app.main(["tools", "--no-mcp"]) == 0
    out, err = capsys.readouterr()
    assert "fetch_url  (built-in)" in out and "arguments: {" in out
    assert "echo.echo" not in out and err == ""


def test_tools_call_runs_an_mcp_tool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_settings(tmp_path, echo_server_toml())
    assert app.main(["tools", "call", "echo.echo", "--args", '{"text": "hello", "times": 2}']) == 0
    assert capsys.readouterr().out == "hello hello\n"
    assert app.main(["tools", "call", "echo.fail", "--args", '{"reason": "testing"}']) == 1
    assert "cannot do it: testing" in capsys.readouterr().err


def test_tools_call_runs_the_plugin_against_the_arxiv_stand_in(
    capsys: pytest.CaptureFixture[str], example_plugin: metadata.Distribution, arxiv_api: ArxivStandIn
) -> None:
    code = app.main(["tools", "call", "arxiv_search", "--args", '{"query": "perovskite", "max_results": 2}', "--json"])
    assert code == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["ok"] is True and outcome["tool"] == "arxiv_search"
    assert [r["url"] for r in outcome["output"]] == [
        "http://arxiv.org/abs/2401.00001v1", "http://arxiv.org/abs/2402.00002v2"
    ]
    assert arxiv_api.queries[0]["search_query"] == ["all:perovskite"]


def test_plugin_allow_list_from_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example_plugin: metadata.Distribution
) -> None:
    write_settings(tmp_path, '[plugins]\nload = ["quarry-plugin-nonexistent"]\n')
    assert app.main(["tools", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "arxiv_search" not in {tool["name"] for tool in json.loads(out)}
    assert "Plugin 'quarry-plugin-nonexistent' is listed in plugins.load but not installed" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tools", "call", "echo.echo", "--args", "{oops"], "quarry: --args is not valid JSON"),
        (["tools", "call", "echo.echo", "--args", "[1]"], "quarry: --args must be a JSON object"),
        (["tools", "call"], "quarry: Name the tool to call"),
        (["tools", "call", "nope", "--no-mcp"], "quarry: There is no tool named 'nope'"),
    ],
)
def test_bad_calls_are_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_terminal_output_is_cleaned() -> None:
    from ui.cli.commands.tools import clean

    assert clean("ok\x1b[31m red\x1b[0m\x07 bell\nnext\ttab") == "ok red bell\nnext\ttab"


def test_mcp_servers_come_from_the_settings_file_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "started"
    monkeypatch.setenv("QUARRY_MCP_SERVERS__EVIL__COMMAND", sys.executable)
    monkeypatch.setenv("QUARRY_MCP_SERVERS__EVIL__ARGS", json.dumps(["-c", f"open({str(marker)!r}, 'w')"]))
    write_settings(tmp_path, echo_server_toml())
    assert app.main(["tools", "--json"]) == 0
    names = {tool["name"] for tool in json.loads(capsys.readouterr().out)}
    assert "echo.echo" in names and not any(n.startswith("evil.") for n in names)
    assert not marker.exists()
