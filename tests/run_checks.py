"""The test command: ruff, mypy, then pytest; exits non-zero when any of them fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    """Run each check in turn; stop at the first failure and return its exit code."""
    py = sys.executable
    checks = [
        [py, "-m", "ruff", "check", "."],
        [py, "-m", "mypy"],
        [py, "-m", "pytest", *argv],
    ]
    for cmd in checks:
        print("$", " ".join(cmd[2:]), flush=True)
        code = subprocess.call(cmd, cwd=ROOT)
        if code != 0:
            print(f"FAILED: {' '.join(cmd[2:])} exited {code}", flush=True)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
