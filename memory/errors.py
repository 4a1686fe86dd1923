"""Errors the memory layer raises; ``str(err)`` is one sentence saying what happened and what to do.

    MemoryStoreError
    ├── EmbeddingMismatchError  the store was built with another embedding model (reindex)
    ├── EmbeddingError          the embedding model cannot be loaded or called
    └── IngestError             a local document cannot be read
"""

from __future__ import annotations


class MemoryStoreError(Exception):
    """Base of the memory layer's errors."""


class EmbeddingMismatchError(MemoryStoreError):
    """The store's collections were embedded with a different model."""


class EmbeddingError(MemoryStoreError):
    """The embedding model cannot be loaded or called."""


class IngestError(MemoryStoreError):
    """A local document cannot be read or parsed."""
