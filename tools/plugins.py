"""Entry-point plugins: installed packages that add tools under the group ``quarry.tools``.

An entry point names a function ``register(register)``; Quarry calls it with a callable that the
plugin calls once per tool (a plain typed function with a docstring, or a LangChain tool), the way
simonw/llm's ``register_tools`` hook works::

    [project.entry-points."quarry.tools"]
    arxiv = "quarry_plugin_example:register"

Guarantees: a plugin loads all or nothing — if it fails to import, raises while registering, or
registers an unusable tool or a name another plugin already took, none of its tools are added and
the problem is reported once (``ToolRegistry.report_problem``) with the plugin's name and the
reason; loading goes on with the next plugin. ``load`` is ``"all"`` or an allow-list of
distribution (or entry-point) names; an allow-listed name that is not installed is reported too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from tools.errors import PluginError
from tools.registry import Tool, ToolRegistry

GROUP = "quarry.tools"

Register = Callable[..., None]


@dataclass(frozen=True)
class PluginInfo:
    """One installed plugin entry point and the distribution that provides it."""

    name: str  # the entry point's name
    package: str  # the distribution name ("" when unknown)
    version: str
    value: str  # "module:function"

    @property
    def origin(self) -> str:
        """How ``tools`` shows where a tool comes from: ``plugin:<package> <version>``."""
        return f"plugin:{self.package or self.name} {self.version}".rstrip()


def discover(group: str = GROUP) -> list[tuple[PluginInfo, metadata.EntryPoint]]:
    """Every installed entry point in ``group``, sorted by package then name."""
    found: list[tuple[PluginInfo, metadata.EntryPoint]] = []
    seen: set[tuple[str, str]] = set()
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        package = dist.name if dist is not None else ""
        version = dist.version if dist is not None else ""
        if (package, ep.name) in seen:  # the same distribution found twice on sys.path
            continue
        seen.add((package, ep.name))
        found.append((PluginInfo(ep.name, package, version, ep.value), ep))
    return sorted(found, key=lambda pair: (pair[0].package, pair[0].name))


def _selected(info: PluginInfo, load: str | list[str]) -> bool:
    if load == "all":
        return True
    wanted = {_canon(name) for name in load}
    return _canon(info.package) in wanted or _canon(info.name) in wanted


def _canon(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def load_plugins(
    registry: ToolRegistry,
    load: str | list[str] = "all",
    *,
    group: str = GROUP,
) -> list[PluginInfo]:
    """Load the selected plugins into ``registry``; returns the ones that loaded."""
    loaded: list[PluginInfo] = []
    installed = discover(group)
    for info, ep in installed:
        if not _selected(info, load):
            continue
        if _load_one(registry, info, ep):
            loaded.append(info)
    if load != "all":
        names = {_canon(i.package) for i, _ in installed} | {_canon(i.name) for i, _ in installed}
        for wanted in load:
            if _canon(wanted) not in names:
                registry.report_problem(
                    wanted,
                    f"Plugin {wanted!r} is listed in plugins.load but not installed; "
                    f"pip install it or remove it from the list.",
                )
    return loaded


def _load_one(registry: ToolRegistry, info: PluginInfo, ep: metadata.EntryPoint) -> bool:
    label = info.package or info.name
    try:
        hook = ep.load()
    except Exception as exc:  # noqa: BLE001  third-party import failure: reported, the app goes on
        registry.report_problem(label, _why(label, "could not be imported", exc))
        return False
    if not callable(hook):
        registry.report_problem(
            label, f"Plugin {label} names {info.value}, which is not a function; it was skipped."
        )
        return False
    tools: list[Tool] = []

    def register(obj: Any, name: str | None = None) -> None:
        tools.append(registry.build(obj, info.origin, name=name))

    try:
        hook(register)
        _check_unique(tools, label)
    except PluginError as exc:
        registry.report_problem(label, f"Plugin {label} was skipped: {exc}")
        return False
    except Exception as exc:  # noqa: BLE001  third-party registration failure: reported, the app goes on
        registry.report_problem(label, _why(label, "failed while registering its tools", exc))
        return False
    return _add_all(registry, tools, label)


def _check_unique(tools: Iterable[Tool], label: str) -> None:
    names: set[str] = set()
    for tool in tools:
        if tool.name in names:
            raise PluginError(f"it registers the tool name {tool.name!r} twice; give each tool its own name.")
        names.add(tool.name)


def _add_all(registry: ToolRegistry, tools: list[Tool], label: str) -> bool:
    clash = next((t for t in tools if t.name in registry), None)
    if clash is not None:
        other = registry.get(clash.name).origin
        registry.report_problem(
            label,
            f"Plugin {label} was skipped: the tool name {clash.name!r} is registered by both {other} "
            f"and {clash.origin}; uninstall one of them or leave one out of plugins.load.",
        )
        return False
    added: list[str] = []
    try:
        for tool in tools:
            registry.add(tool)
            added.append(tool.name)
    except PluginError as exc:
        for name in added:
            registry.remove(name)
        registry.report_problem(label, f"Plugin {label} was skipped: {exc}")
        return False
    return True


def _why(label: str, what: str, exc: BaseException) -> str:
    reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    return f"Plugin {label} {what} ({detail}); it was skipped — fix or uninstall it."
