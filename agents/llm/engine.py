"""One loaded llama.cpp model file and what its calls share: the type both the backend and the sampler use.

``agents.llm.llama`` opens and shares engines (one per model file, ``open_engine``); the sampler
(``agents.llm.sampling``) decodes on one under its lock, keeping its compiled grammars and vocabulary
tables on it. Living here, the type lets the sampler leave the backend unimported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.llm.prefix import PrefixCache

if TYPE_CHECKING:
    from llama_cpp import Llama


@dataclass
class Engine:
    """One loaded model file: the ``Llama``, its lock, its prefix cache and sampler scratch."""

    llama: Llama
    path: Path
    template: str
    template_source: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: PrefixCache = field(default_factory=PrefixCache)
    users: int = 0
    grammars: dict[str, Any] = field(default_factory=dict)
    vocab_tables: Any = None  # vocab.VocabTables, built on the first constrained call
    formatter: Any = None  # the compiled chat template (Jinja2ChatFormatter), built on first use
