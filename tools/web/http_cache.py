"""An on-disk HTTP cache for fetched pages, keyed by the requested URL, bounded in size and age.

Guarantees: an entry (metadata and body together, one ``<sha256>.entry`` file) is written atomically
— temp file, then ``os.replace`` — so a reader never sees half an entry or one entry's headers with
another's body; only successful, storable responses are kept (``Cache-Control: no-store`` is
honoured); an entry carries the validators (``ETag``, ``Last-Modified``) needed to revalidate it and
the time until which it is fresh, so the fetcher can serve it, revalidate it or replace it. A corrupt
or partial entry reads as absent and is removed.

Bounds (``CacheLimits``): every read of an entry (a hit, or the lookup before a revalidation) sets its
file's mtime to now, and a revalidation rewrites it, so the mtime is the entry's last use. Pruning
removes entries unused for longer than ``max_age_s``, then least-recently-used entries until the cache
is under ``max_bytes``. It is amortized: it runs on a background thread after ``prune_every_writes``
writes, ``prune_after_bytes`` written or ``prune_every_s`` seconds (remembered across processes by a
marker file), never on every write. It never deletes an entry being written (writers only ever hold
``.tmp-*`` files, which pruning leaves alone until they are an hour old), nor one replaced or used
while it was deciding (each removal first renames the entry aside and checks it is the file it
scanned, else puts it back). A failed deletion is ignored: the cache is an optimisation. Only files
named like cache entries are ever removed, so a cache folder shared with anything else is safe.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_MAGIC = b"QUARRY-HTTP-CACHE-1\n"
_ENTRY = re.compile(r"[0-9a-f]{64}\.entry")
_LEGACY = re.compile(r"[0-9a-f]{64}\.(?:json|body)")  # the two-file layout before entries were one file
_FOLDER = re.compile(r"[0-9a-f]{2}")
_LEFTOVER = (".tmp-", ".del-")  # a write or a removal in progress, or one a crash left behind
LEFTOVER_AGE_S = 3600.0  # a write takes milliseconds: an older temp file is a crash's leftover
MARKER = ".last-prune"
MB = 1024 * 1024


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


@dataclass(frozen=True)
class CacheLimits:
    """How big and how old the cache may grow, and how often pruning looks."""

    max_bytes: int = 512 * MB
    max_age_s: float = 30 * 86400.0  # counted from the entry's last use
    prune_every_writes: int = 64
    prune_every_s: float = 300.0
    # None: an eighth of max_bytes (at least 1 MB), so a run of big pages cannot overshoot the cap far
    prune_after_bytes: int | None = None

    def bytes_trigger(self) -> int:
        """Bytes written since the last prune that start the next one."""
        return self.prune_after_bytes if self.prune_after_bytes is not None else max(MB, self.max_bytes // 8)


@dataclass(frozen=True)
class CacheStats:
    """What is in a cache folder: its entries and their total size in bytes."""

    directory: Path
    entries: int
    bytes: int


@dataclass(frozen=True)
class PruneReport:
    """What one prune (or clear) removed and what is left."""

    removed: int
    freed_bytes: int
    entries: int
    bytes: int


@dataclass(frozen=True)
class _Seen:
    """One file as the scan saw it: removal goes ahead only if it is still this file."""

    path: Path
    size: int
    mtime: float
    identity: tuple[int, int, int]  # (inode, device, mtime_ns)
    kind: str  # "entry", "legacy" (the old two-file layout, never read: removed by the next prune) or "leftover"

    @property
    def is_entry(self) -> bool:
        """An entry the cache serves (pruned by age and size, not unconditionally)."""
        return self.kind == "entry"


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
    """A directory of ``<aa>/<sha256>.entry`` files, pruned to ``limits`` now and then."""

    def __init__(self, directory: Path, limits: CacheLimits | None = None) -> None:
        self.directory = Path(directory)
        self.limits = limits or CacheLimits()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prunes = 0  # prune passes this instance has run (amortization is observable)
        self._lock = threading.Lock()
        self._writes = 0
        self._written = 0
        self._due_at = self._marker_due()
        self._pruner: threading.Thread | None = None

    def _path(self, url: str) -> Path:
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.directory / key[:2] / f"{key}.entry"

    def get(self, url: str) -> tuple[CacheEntry, bytes] | None:
        """The cached entry and body for ``url``, or None when absent or unreadable; a read counts as use."""
        path = self._path(url)
        try:
            with path.open("rb") as handle:
                seen = _seen(path, os.fstat(handle.fileno()), "entry")
                data = handle.read()
        except OSError:
            return None
        parsed = _parse(data)
        if parsed is None:  # corrupt or cut short (a full disk, a foreign file): drop it
            _remove(seen)
            return None
        if parsed[0].url != url:
            return None
        _touch(path)
        return parsed

    def put(self, entry: CacheEntry, body: bytes) -> None:
        """Store ``entry`` and ``body`` atomically, replacing any older version; may start a prune."""
        path = self._path(entry.url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, _MAGIC + json.dumps(asdict(entry)).encode("utf-8") + b"\n" + body)
        except OSError:  # a full disk or a read-only folder: the page is still returned, just not cached
            return
        self._note_write(len(body))

    def touch(self, entry: CacheEntry, fresh_until: float, body: bytes | None = None) -> CacheEntry:
        """Record a successful revalidation (a 304): new freshness, same body (read back when not given)."""
        updated = CacheEntry(**{**asdict(entry), "fresh_until": fresh_until, "stored_at": time.time()})
        if body is None:
            current = self.get(entry.url)
            if current is None:
                return updated
            body = current[1]
        self.put(updated, body)
        return updated

    # ----------------------------------------------------------------- bounds
    def stats(self) -> CacheStats:
        """How many entries the cache holds and their total size."""
        return cache_stats(self.directory)

    def prune(self, now: float | None = None) -> PruneReport:
        """Remove entries unused for ``max_age_s``, then the least recently used until under ``max_bytes``."""
        now = time.time() if now is None else now
        seen = _scan(self.directory, now)
        entries = sorted((s for s in seen if s.is_entry), key=lambda s: s.mtime)
        removed = freed = 0
        size = left = sum(s.size for s in entries)
        for s in [s for s in seen if not s.is_entry] + entries:
            too_old = s.mtime < now - self.limits.max_age_s
            if s.is_entry and not too_old and size <= self.limits.max_bytes:
                continue
            if _remove(s):
                removed += s.is_entry
                freed += s.size
                left -= s.size if s.is_entry else 0
            if s.is_entry:
                size -= s.size  # one replaced or used meanwhile stays; the next prune looks again
        _touch(self.directory / MARKER, create=True)
        with self._lock:
            self.prunes += 1
        return PruneReport(removed, freed, len(entries) - removed, left)  # as of the scan: no second one

    def clear(self) -> PruneReport:
        """Remove every entry (and leftover temp file), whatever its age; nothing else in the folder."""
        removed = freed = 0
        for s in _scan(self.directory, time.time()):
            if _remove(s):
                removed += s.is_entry
                freed += s.size
        left = cache_stats(self.directory)
        return PruneReport(removed, freed, left.entries, left.bytes)

    def wait_pruned(self, timeout: float | None = None) -> None:
        """Wait for a background prune in progress, if any (``close`` paths and tests)."""
        pruner = self._pruner
        if pruner is not None:
            pruner.join(timeout)

    def _note_write(self, size: int) -> None:
        now = time.time()
        with self._lock:
            self._writes += 1
            self._written += size
            due = (
                self._writes >= self.limits.prune_every_writes
                or self._written >= self.limits.bytes_trigger()
                or now >= self._due_at
            )
            if not due or (self._pruner is not None and self._pruner.is_alive()):
                return
            self._writes = self._written = 0
            self._due_at = now + self.limits.prune_every_s
            self._pruner = threading.Thread(target=self._prune_quietly, name="quarry-http-cache-prune", daemon=True)
            self._pruner.start()

    def _prune_quietly(self) -> None:
        try:
            self.prune()
        except OSError:  # the folder vanished or cannot be listed: the cache is an optimisation
            return

    def _marker_due(self) -> float:
        """When the next time-based prune is due: a new cache is due one interval after creation."""
        marker = self.directory / MARKER
        try:
            return marker.stat().st_mtime + self.limits.prune_every_s
        except OSError:
            _touch(marker, create=True)
            return time.time() + self.limits.prune_every_s


def cache_stats(directory: Path) -> CacheStats:
    """Entries and bytes in a cache folder without creating it (zero when it does not exist)."""
    files = _scan(Path(directory), time.time(), leftovers=False)
    return CacheStats(Path(directory), sum(s.is_entry for s in files), sum(s.size for s in files))


def _scan(directory: Path, now: float, *, leftovers: bool = True) -> list[_Seen]:
    """Entries, legacy files and (when ``leftovers``) stale temp files; anything else is not ours."""
    found: list[_Seen] = []
    try:
        folders = [d for d in os.scandir(directory) if _FOLDER.fullmatch(d.name) and d.is_dir(follow_symlinks=False)]
    except OSError:
        return found
    for folder in folders:
        try:
            children = list(os.scandir(folder.path))
        except OSError:
            continue
        for child in children:
            name = child.name
            entry, legacy = bool(_ENTRY.fullmatch(name)), bool(_LEGACY.fullmatch(name))
            leftover = leftovers and name.startswith(_LEFTOVER)
            if not (entry or legacy or leftover):
                continue
            try:
                st = child.stat(follow_symlinks=False)
            except OSError:
                continue
            if leftover and st.st_mtime > now - LEFTOVER_AGE_S:
                continue  # another writer or pruner is using it right now
            found.append(_seen(Path(child.path), st, "entry" if entry else "legacy" if legacy else "leftover"))
    return found


def _seen(path: Path, st: os.stat_result, kind: str) -> _Seen:
    return _Seen(path, st.st_size, st.st_mtime, (st.st_ino, st.st_dev, st.st_mtime_ns), kind)


def _remove(seen: _Seen) -> bool:
    """Delete the file the scan saw; put back one replaced or used meanwhile. False when nothing was removed."""
    claim = seen.path.with_name(f".del-{uuid.uuid4().hex}")
    try:
        os.rename(seen.path, claim)  # atomic: from here no reader or writer can reach this file by name
    except OSError:
        return False
    try:
        st = os.stat(claim)
        if (st.st_ino, st.st_dev, st.st_mtime_ns) != seen.identity:
            with contextlib.suppress(OSError):  # a writer or reader got there first: restore, unless newer exists
                os.link(claim, seen.path)
            os.unlink(claim)
            return False
        os.unlink(claim)
    except OSError:
        return False
    return True


def _parse(data: bytes) -> tuple[CacheEntry, bytes] | None:
    if not data.startswith(_MAGIC):
        return None
    header, newline, body = data[len(_MAGIC):].partition(b"\n")
    if not newline:
        return None
    try:
        meta = json.loads(header)
        return CacheEntry(**meta), body
    except (ValueError, TypeError):
        return None


def _touch(path: Path, *, create: bool = False) -> None:
    """Set ``path``'s mtime to now; a vanished file or a read-only folder is not an error."""
    try:
        if create:
            path.touch()
        else:
            os.utime(path)
    except OSError:
        return


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
