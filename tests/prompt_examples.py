"""Example variables for every prompt in prompts/, so a test can render each one strictly.

Whoever adds a prompt adds its example here (the test lists any prompt without one).
"""

from __future__ import annotations

EXAMPLES: dict[str, dict[str, object]] = {
    "structured_retry": {
        "error": "does not match the schema: steps: List should have at least 1 item",
        "schema_json": '{"type": "object", "properties": {"steps": {"type": "array"}}}',
    },
    "planner": {
        "question": "How do heat pumps perform in cold climates?",
        "memory_notes": ["Heat pumps (earlier run): COP falls as outdoor temperature drops."],
        "breadth": 3,
        "language": "en",
    },
    "searcher_tools": {
        "question": "How do heat pumps perform in cold climates?",
        "subquestion": "What is the COP of air-source heat pumps at -15 C?",
        "queries": ["heat pump COP -15 C", "cold climate heat pump efficiency"],
        "already": ["heat pump efficiency"],
        "tools": [{"name": "web_search", "description": "Search the web."}],
        "max_calls": 3,
    },
    "searcher_pick": {
        "subquestion": "What is the COP of air-source heat pumps at -15 C?",
        "results": [{"n": 1, "title": "Cold-climate heat pumps", "url": "https://example.org/a", "snippet": "COP 2"}],
        "allowance": 2,
    },
    "answer": {
        "question": "How do heat pumps perform in cold climates?",
        "language": "en",
        "findings": [{"text": "Measured COP was 2.1 at -15 C.", "chunk_ids": ["c1"]}],
        "chunks": [{"id": "c1", "title": "Field study", "text": "Measured COP was 2.1 at -15 C."}],
    },
    "short_answer": {
        "question": "What coefficient of performance did the field study measure at -15 C?",
        "chunks": [{"id": "c1", "title": "Field study", "text": "Measured COP was 2.1 at -15 C."}],
    },
    "followup": {
        "original": "How do heat pumps perform in cold climates?",
        "question": "And what do they cost to install?",
        "language": "en",
        "chunks": [{"id": "c1", "title": "Field study", "text": "Installation cost 12,000 euros."}],
    },
    "searcher_findings": {
        "subquestion": "What is the COP of air-source heat pumps at -15 C?",
        "chunks": [{"id": "c1", "title": "Field study", "text": "Measured COP was 2.1 at -15 C."}],
        "links": [{"n": 1, "url": "https://example.org/b", "text": "Full data"}],
        "observations": ["arXiv: 2 papers on cold-climate heat pumps"],
        "facts": True,
    },
    "kg_extract": {
        "findings": [{"text": "Measured COP was 2.1 at -15 C.", "chunk_ids": ["c1"]}],
        "chunks": [{"id": "c1", "text": "Measured COP was 2.1 at -15 C."}],
    },
    "kg_reflect": {
        "question": "How do heat pumps perform in cold climates?",
        "outline": ["Efficiency", "Costs"],
        "gaps": ["Costs"],
        "contradictions": [{"subject": "Heat pump", "relation": "has COP", "objects": ["2.1", "3.0"]}],
        "bridges": ["Heat pump and Grid"],
        "asked": ["What is the COP at -15 C?"],
        "findings": ["Measured COP was 2.1 at -15 C."],
        "breadth": 3,
    },
    "drafter": {
        "question": "How do heat pumps perform in cold climates?",
        "brief": "Efficiency and cost of heat pumps below freezing.",
        "section": "Efficiency",
        "language": "en",
        "findings": [{"text": "Measured COP was 2.1 at -15 C.", "chunk_ids": ["c1"]}],
        "facts": [{"subject": "Heat pump", "relation": "has COP", "object": "2.1"}],
        "contradictions": [{"subject": "Heat pump", "relation": "has COP", "objects": ["2.1", "3.0"]}],
        "chunks": [{"id": "c1", "title": "Field study", "text": "Measured COP was 2.1 at -15 C."}],
    },
    "report": {
        "question": "How do heat pumps perform in cold climates?",
        "outline": ["Efficiency", "Costs"],
        "language": "en",
        "length": "short",
        "findings": [{"text": "Measured COP was 2.1 at -15 C.", "chunk_ids": ["c1"]}],
        "facts": [{"subject": "Heat pump", "relation": "has COP", "object": "2.1"}],
        "contradictions": [{"subject": "Heat pump", "relation": "has COP", "objects": ["2.1", "3.0"]}],
        "chunks": [{"id": "c1", "title": "Field study", "text": "Measured COP was 2.1 at -15 C."}],
    },
    "verifier": {
        "sentence": "Heat pumps reach a COP of 2.1 at -15 C.",
        "cited": [{"id": "c1", "text": "Measured COP was 2.1 at -15 C."}],
        "others": [{"id": "c2", "text": "Costs were lower than oil heating."}],
    },
}
