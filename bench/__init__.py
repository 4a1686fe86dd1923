"""Benchmarks: scripts that each print one JSON object with the machine they ran on (a package so that
``bench/memory.py`` does not shadow the ``memory`` package for type checkers)."""
