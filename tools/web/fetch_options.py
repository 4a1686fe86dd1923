"""The fetcher's options: a frozen value object mirroring ``agents.settings.FetchSettings``.

Guarantees: every field has a safe default; ``from_mapping`` accepts a settings dump (unknown keys
ignored) so ``app.py`` maps settings to options without the tools layer importing ``agents``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tools.web.http_cache import MB, CacheLimits


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
    cache_max_mb: float = 512.0  # the HTTP cache is pruned (least recently used first) to this size
    cache_max_age_days: float = 30.0  # entries unused for longer are pruned
    cache_prune_every: int = 64  # writes between prunes (also after an eighth of the cap written)
    cache_prune_interval_s: float = 300.0  # or after this long, whichever comes first

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, cache_dir: Path | None = None) -> FetchOptions:
        """Options from a settings mapping (``FetchSettings.model_dump()``); unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in values.items() if k in known}
        if "allow" in chosen:
            chosen["allow"] = tuple(chosen["allow"])
        return cls(**chosen, cache_dir=cache_dir)

    def cache_limits(self) -> CacheLimits:
        """The HTTP cache's bounds and pruning cadence from these options."""
        return CacheLimits(
            max_bytes=int(self.cache_max_mb * MB),
            max_age_s=self.cache_max_age_days * 86400.0,
            prune_every_writes=self.cache_prune_every,
            prune_every_s=self.cache_prune_interval_s,
        )
