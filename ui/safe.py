"""Making untrusted text (fetched pages, model output) inert in the browser UI.

Guarantees: ``md_escape`` turns any string into Markdown that renders as exactly that text — no
HTML, no image, no link, no emphasis, no LaTeX, no colour directive; ``safe_url`` returns a URL only
when its scheme is http or https (and it has a host), else ``None``; ``md_link`` builds a link only
from a safe URL. The UI never passes ``unsafe_allow_html`` and never loads images from pages.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ui.export.common import safe_url  # one rule for links, shared with the exports

# CommonMark lets every ASCII punctuation character be backslash-escaped; escape them all.
_PUNCT = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")


def flat(text: object) -> str:
    """The text on one line: runs of whitespace (newlines, indentation) become one space."""
    return " ".join(str(text).split())


# GitHub-flavoured Markdown turns bare URLs, www. names and e-mail addresses into links even when
# their punctuation is escaped; an invisible word joiner (U+2060) inside each keeps them plain text.
_AUTOLINK = re.compile(r"(\\:)(?=\\/\\/)|(?<=www)(?=\\\.)|(?=\\@)", re.IGNORECASE)


def md_escape(text: object) -> str:
    """Markdown that shows ``text`` literally (on one line) and renders nothing it contains, no link either."""
    escaped = _PUNCT.sub(r"\\\1", flat(text))
    return _AUTOLINK.sub(lambda m: (m.group(1) or "") + "\u2060", escaped)


def _md_destination(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def md_link(label: str, url: object, title: str | None = None) -> str:
    """A Markdown link with an escaped label (and hover title), or just the label for unsafe URLs."""
    safe = safe_url(url)
    shown = md_escape(label)
    if safe is None:
        return shown
    tip = ""
    if title:
        tip = ' "' + flat(title).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"[{shown}]({_md_destination(safe)}{tip})"


def domain(url: object) -> str:
    """The host of an http(s) URL ("" for anything else, such as a local file)."""
    safe = safe_url(url)
    return (urlsplit(safe).hostname or "") if safe else ""


def shorten(text: object, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    value = flat(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"
