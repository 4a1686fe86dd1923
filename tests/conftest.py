"""Shared fixtures: an isolated data directory and settings, and a network that is loopback only.

Tests reach no network but loopback (the house rule); ``_loopback_only`` makes any other connection
fail loudly instead of hanging, so a test that would touch the internet is caught at once. Every
process a test starts must be gone when the suite ends: ``tests.process_guard`` fails the session
naming any that is still running.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.settings import Settings

pytest_plugins: list[str] = [
    "tests.fixture_web", "tests.plugin_support", "tests.fixture_gguf", "tests.process_guard",
]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _allowed(address):
        raise ConnectionRefusedError(f"tests may reach loopback only, not {address!r}")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _allowed(address):
        raise ConnectionRefusedError(f"tests may reach loopback only, not {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No QUARRY_* variable or quarry.toml from the developer's machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("QUARRY_"):
            monkeypatch.delenv(name)
    for name in ("OPENAI_API_KEY", "TAVILY_API_KEY", "BRAVE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QUARRY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the data directory in a temporary folder."""
    return Settings(home=tmp_path / "home")
