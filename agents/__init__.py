"""Quarry's agents: the research graph, its state and nodes, the chat-model seam, settings.

``__version__`` lives here, the lowest package that ``app`` and ``ui`` may both import.
"""

__version__ = "0.1.0"
