"""An on-disk HTTP cache for fetched pages, keyed by the requested URL.

Guarantees: an entry is written atomically (a reader never sees half a file); only successful,
storable responses are kept (``Cache-Control: no-store`` is honoured); an entry carries the
validators (``ETag``, ``Last-Modified``) needed to revalidate it and the time until which it is fresh
(``max-age`` or ``Expires``), so the fetcher can serve it without a request, revalidate it with a
conditional request, or replace it. A corrupt entry reads as absent.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class CacheEntry:
    """What the cache remembers about one URL besides its body."""

    url: str
    final_url: str
    status: int
    content_type: str
    headers: dict[str, str]
    stored_at: float
    fresh_until: float
    etag: str | None = None
    last_modified: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def is_fresh(self, now: float | None = None) -> bool:
        """True while the entry may be served without asking the server."""
        return (now if now is not None else time.time()) < self.fresh_until

    def validators(self) -> dict[str, str]:
        """Conditional request headers that revalidate this entry."""
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def freshness(headers: dict[str, str], now: float) -> tuple[bool, float]:
    """(storable, fresh_until) from response headers; no explicit lifetime means "revalidate"."""
    control = headers.get("cache-control", "").lower()
    if "no-store" in control:
        return False, now
    if "no-cache" in control:
        return True, now
    match = _MAX_AGE.search(control)
    if match:
        return True, now + int(match.group(1))
    expires = headers.get("expires")
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return True, now
        return True, max(now, when)
    return True, now


class HttpCache:
    """A directory of ``<sha256>.json`` metadata files and ``<sha256>.body`` bodies."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        folder = self.directory / key[:2]
        return folder / f"{key}.json", folder / f"{key}.body"

    def get(self, url: str) -> tuple[CacheEntry, bytes] | None:
        """The cached entry and body for ``url``, or None when absent or unreadable."""
        meta_path, body_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
            entry = CacheEntry(**meta)
        except (OSError, ValueError, TypeError):
            return None
        if entry.url != url:
            return None
        return entry, body

    def put(self, entry: CacheEntry, body: bytes) -> None:
        """Store ``entry`` and ``body`` atomically, replacing any older version."""
        meta_path, body_path = self._paths(entry.url)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(body_path, body)
        _atomic_write(meta_path, json.dumps(asdict(entry)).encode("utf-8"))

    def touch(self, entry: CacheEntry, fresh_until: float) -> CacheEntry:
        """Record a successful revalidation (a 304): new freshness, same body."""
        meta_path, _ = self._paths(entry.url)
        updated = CacheEntry(**{**asdict(entry), "fresh_until": fresh_until, "stored_at": time.time()})
        _atomic_write(meta_path, json.dumps(asdict(updated)).encode("utf-8"))
        return updated


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
