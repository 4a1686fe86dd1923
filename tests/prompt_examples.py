"""Example variables for every prompt in prompts/, so a test can render each one strictly.

Whoever adds a prompt adds its example here (the test lists any prompt without one).
"""

from __future__ import annotations

EXAMPLES: dict[str, dict[str, object]] = {
    "structured_retry": {
        "error": "does not match the schema: steps: List should have at least 1 item",
        "schema_json": '{"type": "object", "properties": {"steps": {"type": "array"}}}',
    },
}
