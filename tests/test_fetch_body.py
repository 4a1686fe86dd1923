"""Body handling without a network: bounded inflation, media-type sniffing, charsets, cache freshness."""

from __future__ import annotations

import codecs
import gzip
import time
import zlib
from pathlib import Path

import brotli
import pytest

from tests.fixture_pages import gzip_bomb, make_pdf
from tools.errors import FetchError
from tools.web.body import Inflater, decode_text, looks_binary, media_type
from tools.web.http_cache import CacheEntry, HttpCache, freshness

TEXT = ("<p>Perovskite tandem cells reached 34.6 percent.</p>\n" * 200).encode()


def _feed(inflater: Inflater, data: bytes, step: int = 997) -> bytes:
    return b"".join(inflater.feed(data[i:i + step]) for i in range(0, len(data), step))


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress(TEXT)),
        ("", TEXT),
        ("identity", TEXT),
    ],
)
def test_inflater_round_trips_every_supported_encoding(encoding: str, data: bytes) -> None:
    inflater = Inflater(encoding, limit=10_000_000)
    assert _feed(inflater, data) == TEXT and not inflater.exceeded


@pytest.mark.parametrize("encoding", ["gzip", "br", ""])
def test_inflater_stops_exactly_at_the_limit(encoding: str) -> None:
    data = {"gzip": gzip.compress(TEXT), "br": brotli.compress(TEXT), "": TEXT}[encoding]
    inflater = Inflater(encoding, limit=1000)
    out = _feed(inflater, data)
    assert out == TEXT[:1000] and inflater.exceeded and inflater.size == 1000


def test_gzip_bomb_never_inflates_past_the_limit() -> None:
    bomb = gzip_bomb(64)  # 64 MiB of zeros in about 64 KiB
    inflater = Inflater("gzip", limit=100_000)
    out = _feed(inflater, bomb, step=65536)
    assert len(out) == 100_000 and inflater.exceeded


@pytest.mark.parametrize(("encoding", "message"), [("zstd", "unsupported content encoding 'zstd'"),
                                                   ("gzip, br", "stacked several content encodings")])
def test_unsupported_encodings_are_errors(encoding: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        Inflater(encoding, limit=100)


def test_corrupt_gzip_is_an_error() -> None:
    with pytest.raises(FetchError, match="not valid gzip data"):
        Inflater("gzip", limit=100).feed(b"definitely not gzip")


@pytest.mark.parametrize(
    ("header", "start", "url", "expected"),
    [
        ("text/HTML; charset=UTF-8", b"", "", "text/html"),
        ("application/octet-stream", make_pdf(["x"])[:100], "", "application/pdf"),
        (None, b"<!DOCTYPE html><html>", "", "text/html"),
        ("", b"# Title\n", "https://example.com/readme.md", "text/markdown"),
        (None, b"hello", "https://example.com/notes.txt", "text/plain"),
        (None, b"\x89PNG", "https://example.com/x", "application/octet-stream"),
        ("image/png", b"%PDF-1.4", "", "image/png"),  # a specific label is believed (and refused)
    ],
)
def test_media_type(header: str | None, start: bytes, url: str, expected: str) -> None:
    assert media_type(header, start, url) == expected


@pytest.mark.parametrize(
    ("body", "header", "expected", "charset"),
    [
        ("naïve café".encode(), "text/html; charset=iso-8859-1", "naïve café", "utf-8"),
        ("Grüße aus Köln, schöne Straße".encode("cp1252"), "text/html; charset=utf-8",
         "Grüße aus Köln, schöne Straße", "cp1252"),
        ('<meta charset="koi8-r"><p>Привет, мир</p>'.encode("koi8_r"), "text/html", "Привет, мир", "koi8-r"),
        (codecs.BOM_UTF16_LE + "BOM text".encode("utf-16-le"), "text/plain", "BOM text", "utf-16"),
        (codecs.BOM_UTF8 + b"with bom", "text/plain", "with bom", "utf-8-sig"),
    ],
)
def test_decode_text_finds_the_real_charset(body: bytes, header: str, expected: str, charset: str) -> None:
    text, used = decode_text(body, header)
    assert expected in text and used == charset


def test_binary_detection() -> None:
    assert looks_binary(b"\x00\x01\x02 binary")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary(b"ordinary text\twith tabs\r\n")
    assert not looks_binary(codecs.BOM_UTF16_LE + "x".encode("utf-16-le"))
    with pytest.raises(FetchError, match="binary data"):
        decode_text(b"\x00\x00garbage", "text/html")


def test_freshness_rules() -> None:
    now = 1_000_000.0
    assert freshness({"cache-control": "no-store"}, now) == (False, now)
    assert freshness({"cache-control": "no-cache, max-age=600"}, now) == (True, now)
    assert freshness({"cache-control": "public, max-age=600"}, now) == (True, now + 600)
    assert freshness({"cache-control": "s-maxage=60, max-age=30"}, now) == (True, now + 30)  # private cache
    assert freshness({"expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, now) == (True, now)
    assert freshness({"expires": "garbage"}, now) == (True, now)
    assert freshness({}, now) == (True, now)


def test_cache_round_trip_and_corruption(tmp_path: Path) -> None:
    cache = HttpCache(tmp_path / "http")
    entry = CacheEntry(url="https://e.example/a", final_url="https://e.example/b", status=200,
                       content_type="text/html", headers={"etag": '"x"'}, stored_at=time.time(),
                       fresh_until=time.time() + 60, etag='"x"')
    cache.put(entry, b"<p>body</p>")
    got = cache.get("https://e.example/a")
    assert got is not None and got[0] == entry and got[1] == b"<p>body</p>"
    assert got[0].is_fresh() and got[0].validators() == {"If-None-Match": '"x"'}
    assert cache.get("https://e.example/other") is None
    meta = next((tmp_path / "http").rglob("*.entry"))
    meta.write_text("{not json")
    assert cache.get("https://e.example/a") is None
