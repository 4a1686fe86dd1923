"""The fetcher's options: a frozen value object mirroring ``agents.settings.FetchSettings``.

Guarantees: every field has a safe default; ``from_mapping`` accepts a settings dump (unknown keys
ignored) so ``app.py`` maps settings to options without the tools layer importing ``agents``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FetchOptions:
    """How the fetcher behaves; mirrors ``agents.settings.FetchSettings`` plus the cache folder."""

    concurrency: int = 16
    per_host: int = 4
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    deadline_s: float = 45.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 2
    respect_robots: bool = True
    use_cache: bool = True
    allow: tuple[str, ...] = ()
    user_agent: str = "Quarry/0.1 (+https://github.com/quarry-research/quarry; deep-research bot)"
    cache_dir: Path | None = None
    backoff_s: float = 0.5  # first retry waits this long, doubling each time, unless Retry-After says
    max_retry_after_s: float = 30.0  # a longer Retry-After fails the page instead of waiting
    robots_max_bytes: int = 512_000
    max_crawl_delay_s: float = 10.0  # robots.txt Crawl-delay is honoured up to this many seconds
    ca_file: Path | None = None  # extra trusted CA certificates (PEM), e.g. an intranet's own CA

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, cache_dir: Path | None = None) -> FetchOptions:
        """Options from a settings mapping (``FetchSettings.model_dump()``); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in values.items() if k in known}
        if "allow" in chosen:
            chosen["allow"] = tuple(chosen["allow"])
        return cls(**chosen, cache_dir=cache_dir)
