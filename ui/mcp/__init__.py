"""Quarry as an MCP server (``quarry mcp``): research, follow-ups, memory search and reports as tools.

``server`` builds the ``MCPServer`` (tools and report resources) over the app; ``service`` holds what
each tool does as plain functions; ``http`` serves it over streamable HTTP on loopback, or beyond
loopback only behind a bearer token. Nothing here imports Streamlit or the terminal renderers.
"""
