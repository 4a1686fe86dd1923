"""Report exports: Markdown, self-contained HTML, PDF (from the same HTML) and JSON.

``export(bundle, out_dir, formats)`` writes ``report.<ext>`` for each requested format and
returns the paths; ``parse_formats("md,html")`` validates a ``--format`` value. Each file is
written to a temporary name and renamed, so a failed export never leaves half a file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ui.errors import BadInputError, ExportError
from ui.export import html, json_export, markdown
from ui.export.common import RunBundle, load_bundle, safe_url
from ui.export.pdf import html_to_pdf

FORMATS: tuple[str, ...] = ("md", "html", "pdf", "json")
DEFAULT_FORMATS: tuple[str, ...] = ("md", "html", "json")
_ALIASES = {"markdown": "md", "htm": "html"}

__all__ = ["DEFAULT_FORMATS", "FORMATS", "RunBundle", "export", "load_bundle", "parse_formats", "safe_url"]


def parse_formats(spec: str | Iterable[str]) -> tuple[str, ...]:
    """``"md,html,pdf"`` → ``("md", "html", "pdf")``; an unknown format is a ``BadInputError``."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        name = _ALIASES.get(item.strip().lower(), item.strip().lower())
        if not name:
            continue
        if name not in FORMATS:
            raise BadInputError(f"Unknown report format {item.strip()!r}; choose from {', '.join(FORMATS)}.")
        if name not in out:
            out.append(name)
    if not out:
        raise BadInputError(f"No report format given; choose from {', '.join(FORMATS)}.")
    return tuple(out)


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def export(bundle: RunBundle, out_dir: Path, formats: Iterable[str] = DEFAULT_FORMATS) -> dict[str, Path]:
    """Write ``report.<fmt>`` for each format into ``out_dir``; returns ``{fmt: path}``."""
    wanted = parse_formats(list(formats))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Cannot create the output folder {out_dir} ({exc}); choose another --out.") from exc
    written: dict[str, Path] = {}
    page: str | None = None
    for fmt in wanted:
        target = out_dir / f"report.{fmt}"
        try:
            if fmt == "md":
                written[fmt] = _write_text(target, markdown.render(bundle))
            elif fmt == "json":
                written[fmt] = _write_text(target, json_export.render(bundle))
            else:
                page = page if page is not None else html.render(bundle)
                if fmt == "html":
                    written[fmt] = _write_text(target, page)
                else:
                    tmp = target.with_name(target.name + ".part")
                    html_to_pdf(page, tmp)
                    os.replace(tmp, target)
                    written[fmt] = target
        except OSError as exc:
            raise ExportError(f"Cannot write {target} ({exc}); check the output folder.") from exc
    return written
