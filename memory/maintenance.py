"""Re-embedding a store with another embedding model (``python app.py memory reindex``).

Guarantee: nothing is lost at any point. Each collection is copied into ``<name>__reindex`` with the
new model's vectors, and only when that copy is complete is the original dropped and the copy
renamed; an interrupted reindex is finished (or restarted) by the next one, and ``Memory.open``
never sees a half-built collection under a real name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from chromadb.errors import NotFoundError

from memory import records as rec
from memory.embeddings import QuarryEmbedder

_SUFFIX = "__reindex"


def _get(client: Any, name: str) -> Any | None:
    try:
        return client.get_collection(name, embedding_function=None)
    except (NotFoundError, ValueError):
        return None


def _records(col: Any, page: int = 2000) -> list[tuple[str, str, dict[str, Any]]]:
    out: list[tuple[str, str, dict[str, Any]]] = []
    offset = 0
    while True:
        got = col.get(include=["documents", "metadatas"], limit=page, offset=offset)
        out.extend(zip(got["ids"], got["documents"], got["metadatas"], strict=True))
        if len(got["ids"]) < page:
            return out
        offset += page


def reindex_collection(
    client: Any,
    name: str,
    embedder: QuarryEmbedder,
    *,
    batch: int = 64,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Re-embed one collection with ``embedder``; returns how many records it holds."""
    tmp_name = name + _SUFFIX
    original, leftover = _get(client, name), _get(client, tmp_name)
    if leftover is not None and original is None:  # interrupted after the drop: the copy is complete
        leftover.modify(name=name)
        original = _get(client, name)
    elif leftover is not None:  # interrupted while copying: start the copy again
        client.delete_collection(tmp_name)
    if original is None:
        return 0
    records = _records(original)
    target = client.create_collection(
        tmp_name,
        metadata={"embedding": embedder.fingerprint, "schema": rec.SCHEMA_VERSION},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=embedder,
    )
    for lo in range(0, len(records), batch):
        part = records[lo : lo + batch]
        vectors = embedder([rec.embed_text(name, doc, meta) for _, doc, meta in part])
        target.upsert(
            ids=[r[0] for r in part],
            documents=[r[1] for r in part],
            metadatas=[r[2] for r in part],
            embeddings=[np.asarray(v, dtype=np.float32) for v in vectors],
        )
        if on_progress is not None:
            on_progress(name, min(lo + batch, len(records)), len(records))
    client.delete_collection(name)
    target.modify(name=name)
    return len(records)


def reindex(
    client: Any, embedder: QuarryEmbedder, on_progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """Re-embed every memory collection reachable through ``client``; returns records per collection."""
    return {name: reindex_collection(client, name, embedder, on_progress=on_progress) for name in rec.COLLECTIONS}
