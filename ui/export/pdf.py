"""Render the report's HTML page to PDF with WeasyPrint, figure included, offline.

Why WeasyPrint: it installs from PyPI (its only system needs are Pango and fonts, Debian's
``libpango-1.0-0``/``libpangoft2-1.0-0``/``fonts-dejavu-core``), renders the same HTML and inline SVG
the browser shows, has no JavaScript engine at all, and needs no browser process (Chromium's
print-to-PDF would need a 300 MB browser and a subprocess per export). Its resource fetcher is
limited to ``data:`` URLs, so rendering never touches the network or the file system.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ui.errors import ExportError


def html_to_pdf(html: str, target: Path) -> Path:
    """Write ``html`` (a self-contained page) as a PDF at ``target``."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango's shared libraries are missing
        raise ExportError(
            f"PDF export needs WeasyPrint and Pango ({exc}); install them (see README, Command line) "
            "or choose --format md,html,json."
        ) from exc
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    try:
        HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(target)
    except OSError as exc:
        raise ExportError(f"Cannot write {target} ({exc}); check the output folder.") from exc
    return target
