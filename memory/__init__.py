"""Quarry's shared memory: one Chroma store for sources, chunks, findings and the knowledge graph.

The public surface: ``Memory``, ``MemoryOptions`` and ``Filters`` (``memory.store``), the embedders
(``memory.embeddings``), the value objects (``memory.types``) and the errors (``memory.errors``).
Heavy imports (chromadb, llama.cpp) happen when those modules are imported, not here.
"""

from __future__ import annotations
