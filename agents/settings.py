"""Quarry's one settings object.

Read once, in ``app.py``, from (lowest to highest priority) the defaults below, an optional TOML
file (``$QUARRY_CONFIG`` or ``quarry.toml`` in the working directory) and ``QUARRY_*`` environment
variables (nested fields use ``__``: ``QUARRY_LLM__MODEL=/models/x.gguf``). Nothing else in Quarry
reads the environment for configuration; secrets (API keys) are read from the environment variable
*named* here, never stored in settings or files.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Role = Literal["planner", "searcher", "extractor", "drafter", "verifier"]
ROLES: tuple[Role, ...] = ("planner", "searcher", "extractor", "drafter", "verifier")

# Qwen2.5-7B-Instruct: 32k native context, strong instruction following and JSON output at 7B,
# Apache-2.0, multilingual; Q4_K_M fits in 6 GB of GPU memory. See README "Choosing a model".
DEFAULT_CHAT_MODEL = "bartowski/Qwen2.5-7B-Instruct-GGUF/Qwen2.5-7B-Instruct-Q4_K_M.gguf"
# Without GPU offload the 7B decodes a few tokens a second on a laptop CPU: Qwen2.5-1.5B-Instruct
# instead, same family and ChatML template, 32k context, Apache-2.0, about 1 GB. README "Choosing a model".
CPU_CHAT_MODEL = "bartowski/Qwen2.5-1.5B-Instruct-GGUF/Qwen2.5-1.5B-Instruct-Q4_K_M.gguf"


@functools.cache
def gpu_offload() -> bool:
    """True when the installed llama.cpp build can offload layers to a GPU on this machine."""
    try:
        import llama_cpp
    except ImportError:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def default_chat_model() -> str:
    """The default chat model for this machine: the 7B with GPU offload, the 1.5B without."""
    return DEFAULT_CHAT_MODEL if gpu_offload() else CPU_CHAT_MODEL


class _Section(BaseModel):
    """A settings section: unknown keys are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class ModelSettings(_Section):
    """Which chat model one role uses; unset fields fall back to the shared ``[llm]`` values."""

    backend: Literal["llama", "openai", "none"] | None = None
    model: str | None = None
    base_url: str | None = None


class LLMSettings(_Section):
    """The chat-model seam: backend, model, context and limits."""

    backend: Literal["llama", "openai", "none"] = "llama"
    # llama: a local GGUF path or a Hugging Face reference "owner/repo/file.gguf".
    # openai: the served model's name. none: no model at all, every decision is the floor's.
    model: str = Field(default_factory=default_chat_model)  # unless set: chosen by the machine
    base_url: str | None = None  # OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    api_key_env: str = "OPENAI_API_KEY"  # the *name* of the variable holding the key
    # The context in tokens: llama.cpp's (capped at the model's own); for openai, what the server holds.
    # Every prompt Quarry builds is packed to fit it, less llm.max_tokens for the answer.
    n_ctx: int = Field(default=32768, ge=512)
    n_gpu_layers: int = -1  # all layers on the GPU when llama.cpp has GPU support
    n_threads: int | None = None
    chat_format_fallback: str = "chatml"  # used only when the GGUF carries no chat template
    max_tokens: int = Field(default=1024, ge=16, le=32768)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    seed: int = 0
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=10)
    prefix_cache_mb: int = Field(default=2048, ge=0)  # RAM for reused prompt prefixes
    hf_endpoint: str | None = None  # Hugging Face mirror for model downloads (None: huggingface.co)
    # How the openai backend asks for JSON: the OpenAI standard, or llama-cpp-python's server form
    # {"type": "json_object", "schema": ...}. Answers are validated either way.
    openai_schema_mode: Literal["json_schema", "json_object"] = "json_schema"
    roles: dict[Role, ModelSettings] = Field(default_factory=dict)


class SearchSettings(_Section):
    """Search backends, tried in order with fallback."""

    backends: list[str] = Field(default_factory=lambda: ["duckduckgo"])
    results_per_query: int = Field(default=8, ge=1, le=50)
    searxng_url: str | None = None
    tavily_key_env: str = "TAVILY_API_KEY"
    brave_key_env: str = "BRAVE_API_KEY"
    min_interval_s: float = Field(default=1.0, ge=0)  # per-backend rate limit


class FetchSettings(_Section):
    """The fetcher and its network guard."""

    concurrency: int = Field(default=16, ge=1, le=256)
    per_host: int = Field(default=4, ge=1, le=64)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0)
    deadline_s: float = Field(default=45.0, gt=0)
    max_bytes: int = Field(default=10_000_000, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)
    retries: int = Field(default=2, ge=0, le=10)
    respect_robots: bool = True
    use_cache: bool = True
    cache_max_mb: float = Field(default=512, gt=0)  # the HTTP cache (data dir cache/http) is pruned to this size
    cache_max_age_days: float = Field(default=30, gt=0)  # entries not used for this long are pruned
    # Hosts or networks the guard lets through although they are not global (an intranet, tests).
    allow: list[str] = Field(default_factory=list)
    user_agent: str = "Quarry/0.1 (+https://github.com/quarry-research/quarry; deep-research bot)"


class MemorySettings(_Section):
    """The shared Chroma store and its embeddings."""

    chroma_host: str | None = None  # client/server mode when set
    chroma_port: int = 8000
    embedding_backend: Literal["llama", "openai", "onnx"] = "llama"
    embedding_model: str = "CompendiumLabs/bge-small-en-v1.5-gguf/bge-small-en-v1.5-f16.gguf"
    embedding_base_url: str | None = None
    # The onnx backend's archive (Chroma's all-MiniLM-L6-v2 onnx.tar.gz): a mirror URL or a local file
    # (None: Chroma's own URL), and its SHA-256, always checked (None: Chroma's; set it only for an
    # archive that is a different model on purpose — a mirror serves the same bytes).
    onnx_url: str | None = None
    onnx_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    chunk_tokens: int = Field(default=256, ge=32, le=4096)
    chunk_overlap: int = Field(default=32, ge=0, le=1024)
    freshness_days: float = Field(default=7.0, ge=0)


class BudgetSettings(_Section):
    """Limits on one research run; when one runs out the run drafts from what it has.

    ``mode`` picks a preset of all of them (``agents.run.modes``): ``auto`` (the default) fits the mode and
    the time budget to this machine and model; a value set here overrides the mode's, a flag overrides both.
    """

    mode: Literal["auto", "quick", "standard", "deep"] = "auto"
    breadth: int = Field(default=4, ge=1, le=32)  # sub-questions per round
    depth: int = Field(default=2, ge=0, le=10)  # reflection rounds
    max_pages: int = Field(default=40, ge=0, le=10_000)
    max_hops: int = Field(default=1, ge=0, le=5)
    max_tokens: int = Field(default=400_000, ge=1_000)
    max_minutes: float = Field(default=30.0, gt=0)
    length: Literal["short", "standard", "long"] = "standard"  # the report's length (drafter prompt, editor caps)


class McpServerSettings(_Section):
    """One MCP server, started over stdio; configured in the TOML file only."""

    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=30.0, gt=0)


class PluginSettings(_Section):
    """Which entry-point plugins load ("all" or an allow-list of distribution names)."""

    load: Literal["all"] | list[str] = "all"
    tool_timeout_s: float = Field(default=60.0, gt=0)


class UISettings(_Section):
    """The Streamlit browser UI."""

    host: str = "127.0.0.1"
    port: int = Field(default=8501, ge=1, le=65535)


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("quarry", appauthor=False))


def config_file() -> Path | None:
    """The TOML settings file in use: ``$QUARRY_CONFIG``, else ``./quarry.toml`` if present."""
    named = os.environ.get("QUARRY_CONFIG")
    if named:
        return Path(named).expanduser()
    local = Path("quarry.toml")
    return local if local.is_file() else None


class _EnvWithoutMcp(PydanticBaseSettingsSource):
    """``QUARRY_*`` variables minus ``mcp_servers``: the commands Quarry starts come from the TOML file only."""

    def __init__(self, settings_cls: type[BaseSettings], env: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values = dict(self._env())
        values.pop("mcp_servers", None)
        return values


class Settings(BaseSettings):
    """Everything configurable about Quarry, read once by ``app.py``."""

    model_config = SettingsConfigDict(
        env_prefix="QUARRY_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(default_factory=_default_home)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    mcp_servers: dict[str, McpServerSettings] = Field(default_factory=dict)
    ui: UISettings = Field(default_factory=UISettings)

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, _EnvWithoutMcp(settings_cls, env_settings)]
        path = config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # Paths under the data directory (ARCHITECTURE.md, "Data on disk").
    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def checkpoints_path(self) -> Path:
        return self.home / "checkpoints.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def http_cache_dir(self) -> Path:
        return self.cache_dir / "http"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    def model_for(self, role: Role) -> ModelSettings:
        """The resolved backend, model and base URL for one role."""
        own = self.llm.roles.get(role, ModelSettings())
        return ModelSettings(
            backend=own.backend or self.llm.backend,
            model=own.model or self.llm.model,
            base_url=own.base_url or self.llm.base_url,
        )


class SettingsError(Exception):
    """The settings file or environment holds a value Quarry cannot use."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once: defaults, then the TOML file, then ``QUARRY_*``, then overrides."""
    path = config_file()
    if path is not None and not path.is_file():
        raise SettingsError(f"The settings file {path} does not exist; fix QUARRY_CONFIG or create it.")
    try:
        return Settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError or a TOML syntax error
        where = f" in {path}" if path else ""
        first = str(exc).strip().splitlines()
        detail = "; ".join(line.strip() for line in first[:3])
        raise SettingsError(f"Invalid settings{where}: {detail}. Fix the value and try again.") from exc
