"""Terminal rendering for the CLI (rich); the only module besides the UI that prints."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


def print_doctor(report: dict[str, Any]) -> None:
    """Render the doctor report as a table."""
    table = Table(title="Quarry doctor", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    build = report["llama_cpp"]
    if build.get("installed"):
        gpu = "GPU offload" if build["gpu_offload"] else "CPU only (no GPU support in this build)"
        table.add_row("llama.cpp", f"llama-cpp-python {build['version']}, {gpu}")
    else:
        table.add_row("llama.cpp", f"[red]not installed[/red]: {build.get('error')}")
    model = report["model"]
    labels = {
        "backend": "model backend", "reference": "model", "path": "model file", "base_url": "server",
        "api_key": "API key", "name": "model name", "architecture": "architecture",
        "context_length": "trained context", "n_ctx": "context used", "chat_template": "chat template",
        "gpu_layers": "GPU layers (-1: all)", "served_models": "served models",
    }  # fmt: skip
    for key, value in model.items():
        if key not in ("ok", "error") and value is not None:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            table.add_row(labels.get(key, f"model {key}"), escape(shown))
    for role, spec in report["models"].items():
        table.add_row(f"role {role}", f"{spec['backend']}: {spec['model']}")
    table.add_row("data directory", report["data_dir"])
    table.add_row("settings file", report["config_file"] or "(none: defaults and QUARRY_* variables)")
    table.add_row("python", f"{report['python']} on {report['platform']}")
    console.print(table)
    if not model.get("ok", False):
        console.print(f"[red]Model not usable:[/red] {escape(str(model.get('error', 'unknown error')))}")
