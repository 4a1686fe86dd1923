"""Errors the memory layer raises; ``str(err)`` is one sentence saying what happened and what to do.

    MemoryStoreError
    ├── EmbeddingMismatchError  the store was built with another embedding model (reindex)
    └── EmbeddingError          the embedding model cannot be loaded or called

(A local document that cannot be read is ``tools.errors.DocumentError``: reading files is the tools'
job; the memory only stores what they extracted.)
"""

from __future__ import annotations


class MemoryStoreError(Exception):
    """Base of the memory layer's errors."""


class EmbeddingMismatchError(MemoryStoreError):
    """The store's collections were embedded with a different model."""


class EmbeddingError(MemoryStoreError):
    """The embedding model cannot be loaded or called."""
