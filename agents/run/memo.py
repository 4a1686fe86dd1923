"""A run's memo of tool calls, persisted as JSON so a resumed run does not send a query again.

Keys are tool calls (name and arguments), values are their JSON-friendly outputs. Every write
replaces the file atomically, so a run killed mid-write leaves the previous complete memo.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any


class JsonMemo(MutableMapping[str, Any]):
    """A dict backed by one JSON file (loaded once, written through on every change)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._data: dict[str, Any] = {}
        if self.path.is_file():
            try:
                self._data = dict(json.loads(self.path.read_text(encoding="utf-8")))
            except (ValueError, TypeError):
                self._data = {}  # a damaged memo only costs repeated queries

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._flush()

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._flush()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def _flush(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._data, handle, ensure_ascii=False)
        os.replace(tmp, self.path)
