"""Entry-point plugins: the example arXiv plugin is discovered and called; broken, duplicate and
unlisted plugins are reported once with their name and reason while everything else loads."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from tests.plugin_support import ArxivStandIn, write_distribution
from tools.plugins import GROUP, discover, load_plugins
from tools.registry import ToolRegistry
from tools.types import SearchResult

LOOKUP = '''
def register(register):
    def lookup(term: str) -> str:
        """Look a term up in {label}."""
        return "{label}: " + term
    register(lookup)
'''


def test_example_plugin_is_discovered_with_package_and_version(example_plugin: metadata.Distribution) -> None:
    found = {info.package: info for info, _ in discover()}
    info = found["quarry-plugin-example"]
    assert (info.name, info.value, info.version) == ("arxiv", "quarry_plugin_example:register", example_plugin.version)
    registry = ToolRegistry()
    loaded = load_plugins(registry, "all")
    assert info in loaded
    tool = registry.get("arxiv_search")
    assert tool.origin == f"plugin:quarry-plugin-example {example_plugin.version}"
    assert tool.description.startswith("Search arXiv preprints")
    assert set(tool.parameters["properties"]) == {"query", "max_results"}
    assert registry.problems == []


async def test_example_plugin_searches_the_arxiv_stand_in(
    example_plugin: metadata.Distribution, arxiv_api: ArxivStandIn
) -> None:
    registry = ToolRegistry()
    load_plugins(registry, ["quarry-plugin-example"])
    outcome = await registry.call("arxiv_search", {"query": "perovskite solar", "max_results": 2})
    assert outcome.ok, outcome.error
    assert outcome.results == [
        SearchResult(
            title="Stability of perovskite solar cells under heat",
            url="http://arxiv.org/abs/2401.00001v1",
            snippet="A. Author, B. Author (2024-01-02). We study the thermal stability of perovskite solar cells.",
            rank=1,
            backend="tool:arxiv_search",
        ),
        SearchResult(
            title="Tandem cells",
            url="http://arxiv.org/abs/2402.00002v2",
            snippet="C. Author (2024-02-03). Silicon-perovskite tandems reach new efficiencies.",
            rank=2,
            backend="tool:arxiv_search",
        ),
    ]
    assert arxiv_api.queries == [
        {
            "search_query": ["all:perovskite AND all:solar"],
            "start": ["0"],
            "max_results": ["2"],
            "sortBy": ["relevance"],
        }
    ]


async def test_example_plugin_failure_is_an_observation(
    example_plugin: metadata.Distribution, arxiv_api: ArxivStandIn
) -> None:
    registry = ToolRegistry()
    load_plugins(registry, ["quarry-plugin-example"])
    outcome = await registry.call("arxiv_search", {"query": "?!"})
    assert not outcome.ok
    assert outcome.error == (
        "Tool arxiv_search failed (ValueError: the query has no words to search for; give a few keywords); "
        "try other arguments."
    )
    assert arxiv_api.queries == []


def test_plugin_raising_on_import_is_reported_once_and_others_load(plugin_site: Path) -> None:
    write_distribution(plugin_site, "broken-plugin", "1.0", "broken_plugin", "raise ImportError('needs libfoo')\n")
    write_distribution(plugin_site, "good-plugin", "2.1", "good_plugin", LOOKUP.format(label="good"))
    registry = ToolRegistry()
    loaded = load_plugins(registry, "all")
    assert "good-plugin" in {info.package for info in loaded}
    assert "broken-plugin" not in {info.package for info in loaded}
    assert registry.get("lookup").origin == "plugin:good-plugin 2.1"
    assert registry.problems == [
        "Plugin broken-plugin could not be imported (ImportError: needs libfoo); it was skipped — fix or uninstall it."
    ]
    load_plugins(ToolRegistry(), "all")  # a fresh load reports again, on its own registry only
    assert len(registry.problems) == 1


def test_duplicate_tool_names_are_an_error_naming_both_plugins(plugin_site: Path) -> None:
    write_distribution(plugin_site, "alpha-tools", "1.0", "alpha_tools", LOOKUP.format(label="alpha"))
    write_distribution(plugin_site, "beta-tools", "3.2", "beta_tools", LOOKUP.format(label="beta"))
    registry = ToolRegistry()
    load_plugins(registry, ["alpha-tools", "beta-tools"])
    assert registry.get("lookup").origin == "plugin:alpha-tools 1.0"
    assert registry.problems == [
        "Plugin beta-tools was skipped: the tool name 'lookup' is registered by both plugin:alpha-tools 1.0 "
        "and plugin:beta-tools 3.2; uninstall one of them or leave one out of plugins.load."
    ]
    assert registry.call_sync("lookup", {"term": "x"}).output == "alpha: x"


def test_plugin_clashing_with_a_builtin_is_skipped(plugin_site: Path) -> None:
    write_distribution(plugin_site, "clash-tools", "0.1", "clash_tools", LOOKUP.format(label="clash"))
    registry = ToolRegistry()

    def lookup(term: str) -> str:
        """The built-in lookup."""
        return term

    registry.register(lookup, "built-in")
    load_plugins(registry, ["clash-tools"])
    assert registry.get("lookup").origin == "built-in"
    assert "registered by both built-in and plugin:clash-tools 0.1" in registry.problems[0]


def test_allow_list_and_plugins_that_fail_to_register(plugin_site: Path) -> None:
    write_distribution(plugin_site, "first-tools", "1.0", "first_tools", LOOKUP.format(label="first"))
    write_distribution(
        plugin_site, "half-tools", "1.0", "half_tools",
        "def register(register):\n"
        "    def fine(x: int) -> int:\n"
        "        '''Fine.'''\n"
        "        return x\n"
        "    register(fine)\n"
        "    raise RuntimeError('database not configured')\n",
    )
    write_distribution(
        plugin_site, "nodoc-tools", "1.0", "nodoc_tools",
        "def register(register):\n    def bare(x: int) -> int:\n        return x\n    register(bare)\n",
    )
    write_distribution(plugin_site, "not-callable", "1.0", "not_callable", "register = 42\n")
    registry = ToolRegistry()
    loaded = load_plugins(registry, ["first_tools", "half-tools", "nodoc-tools", "not-callable", "missing-tools"])
    assert [info.package for info in loaded] == ["first-tools"]
    assert registry.names() == ["lookup"]  # nothing of a plugin that failed half-way is kept
    assert registry.problems == [
        "Plugin half-tools failed while registering its tools (RuntimeError: database not configured); "
        "it was skipped — fix or uninstall it.",
        "Plugin nodoc-tools was skipped: The tool 'bare' from plugin:nodoc-tools 1.0 has no docstring; "
        "add one saying what it does.",
        "Plugin not-callable names not_callable:register, which is not a function; it was skipped.",
        "Plugin 'missing-tools' is listed in plugins.load but not installed; "
        "pip install it or remove it from the list.",
    ]
    assert {info.package for info, _ in discover(GROUP)} >= {"first-tools", "half-tools", "not-callable"}


def test_langchain_tool_from_a_plugin(plugin_site: Path) -> None:
    write_distribution(
        plugin_site, "lc-tools", "0.3", "lc_tools",
        "from langchain_core.tools import tool\n"
        "@tool\n"
        "def shout(text: str) -> str:\n"
        "    '''Shout a text.'''\n"
        "    return text.upper()\n"
        "def register(register):\n"
        "    register(shout)\n",
    )
    registry = ToolRegistry()
    load_plugins(registry, ["lc-tools"])
    assert registry.get("shout").origin == "plugin:lc-tools 0.3"
    assert registry.call_sync("shout", {"text": "hey"}).output == "HEY"
