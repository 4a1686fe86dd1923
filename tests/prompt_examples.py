"""Example variables for every prompt in prompts/, so a test can render each one strictly.

Whoever adds a prompt adds its example here (the test lists any prompt without one).
"""

from __future__ import annotations

EXAMPLES: dict[str, dict[str, object]] = {}
