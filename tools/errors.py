"""Errors the tools layer raises; ``str(err)`` is one sentence saying what happened and what to do.

    ToolError
    ├── RefusedURLError    the network guard refused a URL (scheme, address class, redirect hop)
    ├── FetchError         a page could not be fetched or read (status, size cap, content type)
    ├── SearchError        every configured search backend failed or answered nothing
    ├── PluginError        a plugin or MCP server could not be loaded or called
    └── DocumentError      a local document could not be read (unsupported, damaged, encrypted)
"""

from __future__ import annotations


class ToolError(Exception):
    """Base of the tools layer's errors."""


class RefusedURLError(ToolError):
    """The network guard refused a URL."""


class FetchError(ToolError):
    """A page could not be fetched or read."""


class SearchError(ToolError):
    """No search backend produced results."""


class PluginError(ToolError):
    """A plugin or MCP server could not be loaded or called."""


class DocumentError(ToolError):
    """A local document could not be read or parsed."""
