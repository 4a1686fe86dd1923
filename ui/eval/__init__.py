"""The parts of ``quarry eval``: datasets, the loopback test web, scoring and the HTML page.

Each module is self-contained; the runner and the CLI compose them.
"""
