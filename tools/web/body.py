"""Reading a response body safely: bounded decompression, media types, charsets.

Guarantees: ``Inflater`` never holds more than ``limit`` decompressed bytes, whatever the ratio of
the compressed stream (gzip, deflate and brotli bombs stop at the cap); ``media_type`` returns a
lower-case type without parameters, sniffed from the bytes when the server sends none or a generic
one; ``decode_text`` returns text for bodies whose declared charset is missing or wrong (BOM, valid
UTF-8, the declared charset, a ``<meta charset>``, then charset-normalizer's detection, in that
order of trust) and refuses bodies that are binary data whatever their label.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Callable

import brotli
import charset_normalizer

from tools.errors import FetchError

TEXT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown"})
PDF_TYPE = "application/pdf"
ALLOWED_TYPES = TEXT_TYPES | {PDF_TYPE}
ACCEPT = (
    "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,text/markdown;q=0.8,"
    "application/pdf;q=0.7,*/*;q=0.1"
)
ACCEPT_ENCODING = "gzip, deflate, br"
_GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_:.\-]+)", re.IGNORECASE)
_WESTERN_LOOKALIKES = frozenset({
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_9", "iso8859_13",
    "iso8859_15", "iso8859_16", "mac_latin2", "mac_roman", "mac_iceland", "mac_turkish", "cp850", "cp437",
})
_NOT_CONTROL = bytes(range(32, 256)) + b"\t\n\x0c\r"  # deleting these leaves the control bytes
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


class Inflater:
    """Decodes a ``Content-Encoding`` chain incrementally, stopping at ``limit`` output bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        names = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip() != "identity"]
        unknown = [n for n in names if n not in ("gzip", "x-gzip", "deflate", "br")]
        if unknown:
            raise FetchError(f"The server used the unsupported content encoding {unknown[0]!r}.")
        if len(names) > 1:
            raise FetchError("The server stacked several content encodings, which Quarry does not decode.")
        self.limit = limit
        self.size = 0
        self.exceeded = False
        self._step: Callable[[bytes, int], bytes] = _identity() if not names else _decoder(names[0])

    def feed(self, chunk: bytes) -> bytes:
        """Decompressed bytes for ``chunk``; sets ``exceeded`` and truncates once past the limit."""
        if self.exceeded:
            return b""
        room = self.limit - self.size
        out = self._step(chunk, room + 1)
        if len(out) > room:
            out = out[:room]
            self.exceeded = True
        self.size += len(out)
        return out


def _identity() -> Callable[[bytes, int], bytes]:
    def step(chunk: bytes, room: int) -> bytes:
        return chunk[:room]

    return step


def _decoder(name: str) -> Callable[[bytes, int], bytes]:
    if name == "br":
        return _brotli_step()
    return _ZlibStep(name)


class _ZlibStep:
    """gzip or deflate, bounded per call; a "deflate" body without its zlib header is accepted too."""

    def __init__(self, name: str) -> None:
        self.name = name
        gzip = name in ("gzip", "x-gzip")
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._may_be_raw = not gzip
        self._first = True

    def __call__(self, chunk: bytes, room: int) -> bytes:
        try:
            out = self._d.decompress(chunk, room)
        except zlib.error as exc:
            if not (self._first and self._may_be_raw):
                raise FetchError(f"The response body is not valid {self.name} data ({exc}).") from exc
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            self._may_be_raw = False
            return self(chunk, room)
        self._first = False
        # Output past ``room`` stays in unconsumed_tail; the caller stops at the cap anyway.
        return out


def _brotli_step() -> Callable[[bytes, int], bytes]:
    d = brotli.Decompressor()

    def step(chunk: bytes, room: int) -> bytes:
        try:
            out = d.process(chunk, output_buffer_limit=room)
        except brotli.error as exc:
            raise FetchError(f"The response body is not valid brotli data ({exc}).") from exc
        return bytes(out)

    return step


def media_type(header: str | None, body_start: bytes, url: str = "") -> str:
    """The media type from ``Content-Type``, sniffed from the body when absent or generic."""
    declared = (header or "").split(";", 1)[0].strip().lower()
    if declared not in _GENERIC:
        return declared
    head = body_start[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return PDF_TYPE
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "text/html"
    path = url.split("?", 1)[0].lower()
    if path.endswith((".md", ".markdown")):
        return "text/markdown"
    if path.endswith(".txt"):
        return "text/plain"
    return declared or "application/octet-stream"


def is_generic(media: str) -> bool:
    """True for media types that say nothing (``application/octet-stream`` and the like)."""
    return media in _GENERIC


def charset_param(header: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any and known to Python."""
    match = _CHARSET_PARAM.search(header or "")
    return _known(match.group(1)) if match else None


def _known(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def looks_binary(body: bytes) -> bool:
    """True when ``body`` is evidently not text: NUL bytes or many control characters."""
    sample = body[:8192]
    if not sample:
        return False
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample.translate(None, _NOT_CONTROL))
    return controls / len(sample) > 0.05


def decode_text(body: bytes, content_type_header: str | None) -> tuple[str, str]:
    """(text, charset used) for a textual body; raises ``FetchError`` for binary data."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    if looks_binary(body):
        raise FetchError("The response claims to be text but is binary data.")
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    meta = _META_CHARSET.search(body[:4096])
    for declared in (charset_param(content_type_header), _known(meta.group(1).decode("ascii")) if meta else None):
        if declared and declared not in ("utf-8", "ascii"):
            try:
                return body.decode(declared), declared
            except UnicodeDecodeError:
                continue
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    guess: str = (best.encoding if best is not None else None) or "cp1252"
    if guess in _WESTERN_LOOKALIKES:
        # Short Latin-script pages fool the detector among similar code pages; windows-1252 is
        # the web's historical default (WHATWG), so prefer it whenever it decodes cleanly.
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return body.decode(guess, errors="replace"), guess
