"""Prompt templates as files, rendered strictly.

A prompt named ``NAME`` is ``prompts/NAME.system.j2`` plus ``prompts/NAME.user.j2`` (either may be
absent). Templates are Jinja2 with ``StrictUndefined``: a missing variable is an error, never an
empty string. Untrusted text (pages, search results, model output, plugin output) goes through the
``untrusted`` filter, which wraps it in a labelled ``<data>`` block and neutralises any closing tag
inside it, so a page cannot end the block early and speak as the prompt.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

PROMPT_DIR = Path(__file__).parent
_ROLES = ("system", "user")


def untrusted(text: object, label: str = "data") -> str:
    """Wrap untrusted text in a delimited block that it cannot close or escape."""
    body = str(text).replace("</data", "<\\/data").replace("<data", "<\\data")
    safe_label = "".join(ch for ch in str(label) if ch.isalnum() or ch in "-_ ")[:60]
    return f'<data label="{safe_label}">\n{body}\n</data>'


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPT_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["untrusted"] = untrusted
    return env


def names() -> list[str]:
    """Every prompt name that has at least one template file."""
    found = {p.name.split(".")[0] for p in PROMPT_DIR.glob("*.j2")}
    return sorted(found)


def render(name: str, **variables: Any) -> list[dict[str, str]]:
    """Render prompt ``name`` into chat messages; a missing variable raises ``UndefinedError``."""
    messages: list[dict[str, str]] = []
    for role in _ROLES:
        path = PROMPT_DIR / f"{name}.{role}.j2"
        if path.is_file():
            text = _env().get_template(path.name).render(**variables).strip()
            messages.append({"role": role, "content": text})
    if not messages:
        raise FileNotFoundError(f"No prompt templates named {name!r} in {PROMPT_DIR}")
    return messages
