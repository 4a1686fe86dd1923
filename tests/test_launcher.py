"""``./quarry``'s set-up: one stamp for what is installed, so a command already covered installs nothing.

The launcher runs against a copy of itself beside stub requirement files and a stub virtual
environment whose ``bin/python`` only records how it was called, so no package is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STUB_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../calls.log"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with the real launcher, stub requirement files and a stub venv."""
    root = tmp_path / "checkout"
    (root / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "quarry", root / "quarry")
    (root / "requirements.txt").write_text("# runtime\n", encoding="utf-8")
    (root / "requirements-dev.txt").write_text("-r requirements.txt\n# dev\n", encoding="utf-8")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text(STUB_PYTHON, encoding="utf-8")
    (venv_bin / "python").chmod(0o755)
    return root


def launch(root: Path, *args: str) -> tuple[str, list[str]]:
    """Run ``./quarry ARGS``; returns its stderr and the pip commands the stub venv saw."""
    venv = root.parent / "venv"
    log = venv / "calls.log"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("CMAKE_ARGS", "QUARRY_CUDA")}
    env.update(QUARRY_VENV=str(venv), QUARRY_CUDA="0", PYTHON=sys.executable)
    done = subprocess.run([str(root / "quarry"), *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done.stderr, [c for c in calls if c.startswith("-m pip install")]


def test_research_right_after_test_installs_nothing_and_says_nothing(checkout: Path) -> None:
    _, pips = launch(checkout, "test")
    assert any("requirements-dev.txt" in c for c in pips)
    for command in ("research", "test", "research"):
        stderr, pips = launch(checkout, command, "q")
        assert (stderr, pips) == ("", [])


def test_a_changed_requirement_file_installs_again(checkout: Path) -> None:
    launch(checkout, "test")
    (checkout / "requirements.txt").write_text("# runtime, changed\n", encoding="utf-8")
    stderr, pips = launch(checkout, "research", "q")
    assert "installing requirements" in stderr and pips
    stderr, pips = launch(checkout, "test")  # research's install did not cover the dev tools of the new pins
    assert "installing requirements" in stderr and pips
    assert launch(checkout, "research", "q") == ("", [])


def test_the_one_line_stamp_of_earlier_launchers_is_understood(checkout: Path) -> None:
    files = (checkout / "requirements.txt").read_bytes() + (checkout / "requirements-dev.txt").read_bytes()
    (checkout.parent / "venv" / ".quarry-setup").write_text(f"{hashlib.sha256(files).hexdigest()}-cpu\n")
    assert launch(checkout, "research", "q") == ("", [])
    assert launch(checkout, "test") == ("", [])


def test_another_llama_build_installs_again(checkout: Path) -> None:
    launch(checkout, "test")
    stamp = checkout.parent / "venv" / ".quarry-setup"
    stamp.write_text(stamp.read_text().replace("flavor=cpu", "flavor=cuda"))
    stderr, pips = launch(checkout, "research", "q")
    assert "llama-cpp-python builds from source" in stderr and pips
