"""Model references → local GGUF files.

``resolve_model(reference, models_dir)`` guarantees a path to an existing file or a
``ModelNotFoundError`` whose one sentence says how to fix it. A reference is either a local path
(``~/models/x.gguf``, ``./x.gguf``, ``/abs/x.gguf``) or a Hugging Face reference
``owner/repo/file.gguf`` (the file may sit in a folder: ``owner/repo/sub/file.gguf``). A Hugging
Face file is downloaded once, with a progress bar, to ``models_dir/owner/repo/file.gguf``; later
calls find it there and touch no network. Before a download one request, never retried, checks that
the Hub answers at all, so offline the one sentence comes at once instead of after
huggingface_hub's retries and their "Retrying in Ns" lines.
"""

from __future__ import annotations

import os
from pathlib import Path

from agents.errors import ModelNotFoundError


def _local_hint(setting: str) -> str:
    """How to point ``setting`` (a dotted settings key such as ``llm.model``) at a local file."""
    variable = "QUARRY_" + setting.upper().replace(".", "__")
    return f"set {variable}=/path/to/model.gguf (or {setting} in quarry.toml) to use a local file"


def is_hub_reference(reference: str) -> bool:
    """True when ``reference`` reads as ``owner/repo/file.gguf`` rather than a local path."""
    if reference.startswith(("/", "./", "../", "~")) or (os.sep != "/" and os.sep in reference):
        return False
    parts = reference.split("/")
    return len(parts) >= 3 and all(parts) and reference.lower().endswith(".gguf")


def cached_path(reference: str, models_dir: Path) -> Path | None:
    """Where a reference's file already is (local path or earlier download), else None."""
    local = Path(reference).expanduser()
    if local.is_file():
        return local
    if is_hub_reference(reference):
        target = Path(models_dir, *reference.split("/"))
        if target.is_file():
            return target
    return None


def resolve_model(
    reference: str, models_dir: Path, *, endpoint: str | None = None, setting: str = "llm.model"
) -> Path:
    """A local path for ``reference``, downloading a Hugging Face file once if needed.

    ``setting`` names the settings key the reference came from, so the error says what to change.
    """
    found = cached_path(reference, models_dir)
    if found is not None:
        return found
    if not is_hub_reference(reference):
        raise ModelNotFoundError(
            f"The model file {reference} does not exist; check the path ({setting}), or name a Hugging Face "
            "file as owner/repo/file.gguf."
        )
    return download(reference, models_dir, endpoint=endpoint, setting=setting)


def hub_reachable(endpoint: str | None = None) -> bool:
    """True when the Hub (or the mirror ``endpoint``) answers at all: one try through huggingface_hub's client."""
    import httpx2
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    url = (endpoint or constants.ENDPOINT).rstrip("/") + "/"
    try:
        get_session().head(url, timeout=constants.HF_HUB_ETAG_TIMEOUT, follow_redirects=False)
    except (httpx2.TransportError, OSError):
        return False
    return True


def download(reference: str, models_dir: Path, *, endpoint: str | None = None, setting: str = "llm.model") -> Path:
    """Download ``owner/repo/file.gguf`` into ``models_dir/owner/repo/`` with a progress bar."""
    import httpx2  # huggingface_hub's HTTP client
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
    )

    owner, repo, *rest = reference.split("/")
    filename = "/".join(rest)
    local_dir = Path(models_dir, owner, repo)
    try:
        if not constants.HF_HUB_OFFLINE and not hub_reachable(endpoint):
            raise ConnectionError(f"{endpoint or constants.ENDPOINT} does not answer")
        local_dir.mkdir(parents=True, exist_ok=True)
        path = hf_hub_download(repo_id=f"{owner}/{repo}", filename=filename, local_dir=local_dir, endpoint=endpoint)
    except (EntryNotFoundError, OfflineModeIsEnabled, HfHubHTTPError, httpx2.HTTPError, OSError) as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status:
            reason = f"HTTP {status}: no such file or repository, or it needs a token"
        elif isinstance(exc, OfflineModeIsEnabled | LocalEntryNotFoundError | httpx2.HTTPError | ConnectionError):
            reason = "offline, or the Hub cannot be reached"
        else:
            reason = type(exc).__name__
        raise ModelNotFoundError(
            f"Could not download {reference} from Hugging Face ({reason}); "
            f"download it yourself and {_local_hint(setting)}."
        ) from exc
    return Path(path)
