"""URL normalization for deduplication: one spelling per page.

Guarantees: ``normalize_url`` is idempotent and maps URLs that differ only in scheme case, host case,
a default port, a trailing slash, a fragment, parameter order or tracking parameters (``utm_*``,
``gclid``, ``fbclid`` and similar) to the same string; it never raises (an unparseable URL comes back
stripped). ``dedupe_key`` additionally treats http and https, and a leading ``www.``, as the same page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({
    "gclid", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
    "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "ref_url", "spm", "srsltid", "vero_id",
    "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid", "si", "cmpid",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """The canonical spelling of ``url`` (see the module docstring for what is folded)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        return text
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        netloc = f"{userinfo}{':' + parts.password if parts.password else ''}@{netloc}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)))
    return urlunsplit((scheme, netloc, path, query, ""))


def dedupe_key(url: str) -> str:
    """A key under which the same page reached by http/https or with/without ``www.`` collides."""
    normal = normalize_url(url)
    for prefix in ("https://", "http://"):
        if normal.startswith(prefix):
            normal = normal[len(prefix):]
            break
    return normal[4:] if normal.startswith("www.") else normal
