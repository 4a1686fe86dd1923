"""The command line: ``./quarry <command>`` (``python app.py <command>``) and its terminal output.

``app.py`` dispatches each subcommand to ``commands/<name>.py`` (``HELP``, ``add_arguments``,
``run(args, app) -> int``); ``engine`` is what ``research``, ``runs resume`` and ``eval`` share
(flags, settings overrides, one run or a batch, exit codes); ``batch`` runs many questions from a
file; ``progress`` renders the run's event stream in the terminal; ``terminal`` renders the other
tables. Runs go through ``ui.runner``, the same path as the browser UI (``ui.web``), which nothing
here imports. This module imports nothing, so loading one command loads only what it needs.
"""
