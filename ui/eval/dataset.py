"""Loading evaluation questions with their pages from a JSONL file.

Guarantees: ``load_dataset`` returns questions in file order, each with at least one page (one per
distinct title; paragraphs that share a title are merged in order, identical ones kept once) and at
least one supporting title, every one of which names a page; a line whose supporting titles name no page
of its own is skipped and reported (``skipped``), not fatal; any other bad line raises ``DatasetError``
with one sentence naming the file, the line number and what is wrong (exit code 2). Lines past the selected
``skip + n`` questions are not read. The format is detected per line:

- **HotpotQA**: ``_id``, ``question``, ``answer``, ``supporting_facts`` ([title, sentence index]
  pairs), ``context`` ([title, [sentences]] pairs; a paragraph is its sentences joined as given),
  ``type`` (bridge or comparison). Two hops.
- **MuSiQue**: ``id``, ``question``, ``answer``, ``answer_aliases``, ``paragraphs`` (``title``,
  ``paragraph_text``, ``is_supporting``), ``question_decomposition`` (one entry per hop). The kind is
  ``2hop``/``3hop``/``4hop`` from the id prefix, else from the decomposition's length.
- **Generic**: ``question`` (string), ``answer`` (string or number), ``aliases`` (optional list of
  strings), ``pages`` (list of ``{"title", "text"}``), ``supporting`` (list of page titles), and
  optionally ``id`` (default ``line-N``), ``type`` (default ``generic``) and ``hops`` (a positive
  integer, default the number of supporting titles). For example::

      {"question": "Who wrote X?", "answer": "Ann", "pages": [{"title": "X", "text": "X is by Ann."}],
       "supporting": ["X"]}

Question ids are unique within a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ui.errors import BadInputError

_GENERIC_HINT = "each line needs question, answer, pages and supporting (see `quarry eval --help`)"
_HOTPOT_HINT = "a HotpotQA line needs question, answer, supporting_facts and context"
_MUSIQUE_HINT = "a MuSiQue line needs question, answer, paragraphs and question_decomposition"
_HOPS_PREFIX = re.compile(r"^(\d+)hop")


@dataclass(frozen=True)
class Page:
    """One page of the test web: a title and its article text (paragraphs separated by blank lines)."""

    title: str
    text: str


@dataclass(frozen=True)
class Item:
    """One evaluation question with its gold answer, its pages and the titles that support it."""

    id: str
    question: str
    answer: str
    aliases: tuple[str, ...]
    pages: tuple[Page, ...]
    supporting: tuple[str, ...]
    kind: str
    hops: int


class DatasetError(BadInputError):
    """A dataset file cannot be read or one of its lines is not a usable question."""


class _LineError(Exception):
    """What is wrong with one line (without the file and line number), plus the format's hint."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


class _Unusable(_LineError):
    """A well-formed line that is no usable question (no page of its own supports it): skipped, not fatal."""


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], want: str, hint: str) -> Any:
    if key not in obj:
        raise _LineError(f"'{key}' is missing", hint)
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _LineError(f"'{key}' is {_kind_name(value)}, not {want}", hint)
    return value


def _kind_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _text(obj: dict[str, Any], key: str, hint: str) -> str:
    value = _field(obj, key, (str, int, float), "a string", hint)
    text = str(value).strip()
    if not text:
        raise _LineError(f"'{key}' is empty", hint)
    return text


def _strings(value: Any, key: str, hint: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _LineError(f"'{key}' must be a list of strings", hint)
    return tuple(v.strip() for v in value if v.strip())


def _merge(paragraphs: list[tuple[str, str]]) -> tuple[Page, ...]:
    by_title: dict[str, list[str]] = {}
    for title, text in paragraphs:
        parts = by_title.setdefault(title, [])
        if text and text not in parts:
            parts.append(text)
    return tuple(Page(title, "\n\n".join(parts)) for title, parts in by_title.items())


def _check_supporting(supporting: list[str], pages: tuple[Page, ...], where: str, hint: str) -> tuple[str, ...]:
    if not pages:
        raise _LineError(f"'{where}' has no pages", hint)
    titles = {p.title for p in pages}
    for title in supporting:
        if title not in titles:
            raise _Unusable(f"the supporting title {title!r} names no page in '{where}'", hint)
    if not supporting:
        raise _Unusable("no page is marked as supporting", hint)
    return tuple(dict.fromkeys(supporting))


def _hotpot(obj: dict[str, Any], default_id: str) -> Item:
    hint = _HOTPOT_HINT
    paragraphs = []
    for entry in _field(obj, "context", list, "a list", hint):
        if (not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str)
                or not isinstance(entry[1], list) or not all(isinstance(s, str) for s in entry[1])):
            raise _LineError("each 'context' entry must be [title, [sentences]]", hint)
        paragraphs.append((entry[0].strip(), "".join(entry[1]).strip()))
    supporting = []
    for fact in _field(obj, "supporting_facts", list, "a list", hint):
        if not isinstance(fact, list) or not fact or not isinstance(fact[0], str):
            raise _LineError("each 'supporting_facts' entry must be [title, sentence index]", hint)
        supporting.append(fact[0].strip())
    pages = _merge(paragraphs)
    kind = _field(obj, "type", str, "a string", hint) if "type" in obj else "generic"
    return Item(id=str(obj.get("_id") or default_id), question=_text(obj, "question", hint),
                answer=_text(obj, "answer", hint), aliases=(), pages=pages,
                supporting=_check_supporting(supporting, pages, "context", hint), kind=kind, hops=2)


def _musique(obj: dict[str, Any], default_id: str) -> Item:
    hint = _MUSIQUE_HINT
    paragraphs, supporting = [], []
    for entry in _field(obj, "paragraphs", list, "a list", hint):
        if (not isinstance(entry, dict) or not isinstance(entry.get("title"), str)
                or not isinstance(entry.get("paragraph_text"), str)):
            raise _LineError("each 'paragraphs' entry needs a title and a paragraph_text string", hint)
        paragraphs.append((entry["title"].strip(), entry["paragraph_text"].strip()))
        if entry.get("is_supporting") is True:
            supporting.append(entry["title"].strip())
    pages = _merge(paragraphs)
    item_id = str(obj.get("id") or default_id)
    steps = _field(obj, "question_decomposition", list, "a list", hint) if "question_decomposition" in obj else None
    prefix = _HOPS_PREFIX.match(item_id)
    if steps:
        hops = len(steps)
    elif prefix:
        hops = int(prefix.group(1))
    else:
        raise _LineError("'question_decomposition' is missing and the id does not start with its hops", hint)
    kind = f"{prefix.group(1)}hop" if prefix else f"{hops}hop"
    aliases = _strings(obj["answer_aliases"], "answer_aliases", hint) if "answer_aliases" in obj else ()
    return Item(id=item_id, question=_text(obj, "question", hint), answer=_text(obj, "answer", hint),
                aliases=aliases, pages=pages, supporting=_check_supporting(supporting, pages, "paragraphs", hint),
                kind=kind, hops=hops)


def _generic(obj: dict[str, Any], default_id: str) -> Item:
    hint = _GENERIC_HINT
    question, answer = _text(obj, "question", hint), _text(obj, "answer", hint)
    paragraphs = []
    for entry in _field(obj, "pages", list, "a list", hint):
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) \
                or not isinstance(entry.get("text"), str) or not entry["title"].strip():
            raise _LineError("each 'pages' entry needs a non-empty title and a text string", hint)
        paragraphs.append((entry["title"].strip(), entry["text"].strip()))
    pages = _merge(paragraphs)
    supporting = _check_supporting(list(_strings(_field(obj, "supporting", list, "a list", hint), "supporting", hint)),
                                   pages, "pages", hint)
    hops = _field(obj, "hops", int, "an integer", hint) if "hops" in obj else len(supporting)
    if hops < 1:
        raise _LineError("'hops' must be a positive integer", hint)
    aliases = _strings(obj["aliases"], "aliases", hint) if "aliases" in obj else ()
    item_id = _text(obj, "id", hint) if "id" in obj else default_id
    kind = _text(obj, "type", hint) if "type" in obj else "generic"
    return Item(id=item_id, question=question, answer=answer, aliases=aliases, pages=pages,
                supporting=supporting, kind=kind, hops=hops)


def _parse_line(line: str, default_id: str) -> Item:
    """One JSONL line as an ``Item`` (format detected from its keys); raises ``_LineError``."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _LineError(f"it is not valid JSON ({exc.msg} at column {exc.colno})", _GENERIC_HINT) from exc
    if not isinstance(obj, dict):
        raise _LineError(f"it is {_kind_name(obj)}, not a JSON object", _GENERIC_HINT)
    if "context" in obj or "supporting_facts" in obj or "_id" in obj:
        return _hotpot(obj, default_id)
    if "paragraphs" in obj:
        return _musique(obj, default_id)
    return _generic(obj, default_id)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield number, line
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DatasetError(f"Cannot read the dataset {path} ({reason}); pass a readable JSONL file of "
                           "questions (see `quarry eval --help`).") from exc


def load_dataset(path: Path, *, n: int | None = None, skip: int = 0, skipped: list[str] | None = None) -> list[Item]:
    """The questions of a JSONL dataset file, after dropping the first ``skip`` and keeping ``n``.

    A line that is well formed but no usable question (a supporting title that names none of its pages,
    no page marked as supporting) is skipped, not fatal: its reason (``line N: ...``) is appended to
    ``skipped``, and it counts toward neither ``skip`` nor ``n``.
    """
    if skip < 0 or (n is not None and n < 1):
        raise DatasetError("--skip must be 0 or more and --n 1 or more.")
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"The dataset {path} does not exist or is not a file; pass a JSONL file of "
                           "questions (see `quarry eval --help`).")
    items: list[Item] = []
    seen: dict[str, int] = {}
    count = 0
    for number, line in _lines(path):
        try:
            item = _parse_line(line, f"line-{number}")
        except _Unusable as err:
            if skipped is not None:
                skipped.append(f"line {number}: {err.what}")
            continue
        except _LineError as err:
            raise DatasetError(f"{path.name} line {number}: {err.what}; {err.hint}.") from None
        if item.id in seen:
            raise DatasetError(f"{path.name} line {number}: the id {item.id!r} repeats line {seen[item.id]}; "
                               "give every question its own id.")
        seen[item.id] = number
        count += 1
        if count > skip:
            items.append(item)
        if n is not None and len(items) >= n:
            break
    if not items and count:
        raise DatasetError(f"{path.name} holds {count} questions, none left after skipping {skip}; "
                           "pass a smaller --skip.")
    if not items:
        unusable = f" (its {len(skipped)} unusable lines skipped)" if skipped else ""
        raise DatasetError(f"{path.name} holds no questions{unusable}; {_GENERIC_HINT}.")
    return items
