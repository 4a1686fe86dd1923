"""Content-derived ids and URL normalization.

Every id the memory writes is a pure function of content (and, for chunks, of the source and
position), so writing the same thing twice — a resumed run, a repeated run, the same article under
another URL — lands on the same record instead of a duplicate.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the visitor; they never change the content.
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|mc_cid|mc_eid|ref|ref_src|igshid|_hs.*|spm)$", re.I)
_SPACE = re.compile(r"\s+")


def _digest(*parts: str, size: int = 16) -> str:
    h = hashlib.blake2b(digest_size=size)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def normalize_text(text: str) -> str:
    """Text reduced to what identifies its content: NFC, whitespace collapsed, case folded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(text: str) -> str:
    """Hash of a text's normalized content (whitespace and case do not matter)."""
    return _digest(normalize_text(text))


def normalize_url(url: str) -> str:
    """A URL in canonical form: lower-case scheme and host, no fragment, no tracking parameters."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url  # a file path or an opaque reference: kept as given
    host = (parts.hostname or "").lower()
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80) or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(sorted(query)), ""))


def source_id(text_hash: str) -> str:
    """The id of a source: derived from its content hash, so syndicated copies share one id."""
    return "src_" + text_hash[:24]


def chunk_id(source: str, position: int, text: str) -> str:
    """The id of a chunk: its source, its position and its text."""
    return "chk_" + _digest(source, str(position), normalize_text(text), size=12)


def finding_id(run_id: str, question: str, text: str) -> str:
    """The id of a finding: the run, the sub-question and the statement."""
    return "fnd_" + _digest(run_id, normalize_text(question), normalize_text(text), size=12)


def entity_key(name: str) -> str:
    """The canonical key of an entity name (case, accents spacing and punctuation ignored)."""
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", folded).strip().casefold()


def entity_id(name: str) -> str:
    """The id of an entity: its canonical name (the type is an attribute, not part of the key)."""
    return "ent_" + _digest(entity_key(name), size=12)


def relation_id(subject_id: str, relation: str, object_id: str) -> str:
    """The id of a relation: subject, normalized predicate and object."""
    return "rel_" + _digest(subject_id, entity_key(relation), object_id, size=12)
