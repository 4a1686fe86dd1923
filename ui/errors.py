"""Errors the presentation layer raises (exports, the runs folder, batch files, CLI options).

Every message is one sentence a user can act on; ``exit_code`` is what the CLI returns for it
(2: bad input the user can fix; 1: a run or an export failed).

    UIError
    ├── BadInputError     an option, file or run id the user gave cannot be used (exit 2)
    ├── RunNotFoundError  no run folder has that id (exit 2)
    └── ExportError       a report could not be rendered or written (exit 1)
"""

from __future__ import annotations


class UIError(Exception):
    """Base of the presentation layer's errors; ``str(err)`` is one actionable sentence."""

    exit_code = 1


class BadInputError(UIError):
    """An option, file or value the user gave cannot be used."""

    exit_code = 2


class RunNotFoundError(BadInputError):
    """No run folder exists for the given run id."""


class ExportError(UIError):
    """A report could not be rendered or written in a requested format."""
