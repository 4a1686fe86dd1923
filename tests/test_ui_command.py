"""``python app.py ui``: the Streamlit command line and the settings the server process inherits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import build_app, build_parser
from ui.cli.commands import ui as ui_command


def test_streamlit_command_is_headless_on_the_given_address() -> None:
    command = ui_command.streamlit_command("127.0.0.1", 8599)
    assert command[1:5] == ["-m", "ui.web.server", str(os.getpid()), "run"]  # Streamlit, bound to this process
    assert command[5].endswith("ui/web/streamlit_app.py")
    pairs = dict(zip(command[6::2], command[7::2], strict=True))
    assert pairs["--server.headless"] == "true"
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8599"
    assert pairs["--browser.gatherUsageStats"] == "false"


def test_ui_is_a_subcommand_with_loopback_defaults() -> None:
    args = build_parser().parse_args(["ui", "--port", "9000"])
    assert args.port == 9000 and args.host is None
    assert build_app().settings.ui.host == "127.0.0.1"


def test_child_env_pins_the_same_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "quarry.toml"
    config.write_text("[budget]\nmax_pages = 7\n", encoding="utf-8")
    app = build_app()
    env = ui_command.child_env(app)
    assert env["QUARRY_CONFIG"] == str(config.resolve())
    assert env["QUARRY_HOME"] == str(app.settings.home)
    assert app.settings.budget.max_pages == 7
