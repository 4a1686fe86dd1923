"""The run machinery: what executes the research graph, as opposed to the graph's own nodes.

``runner`` starts, pauses and resumes runs (``Runner``, ``RunOptions``, ``RunParts``) and is the one
API the CLI, the browser UI and scripts call; ``lock`` keeps one process per run and tells a live
run from a dead one; ``memo`` persists a run's tool calls so a resume does not repeat them;
``budget`` holds a run's caps and the pure checks on them; ``commit`` batches concurrent writes.
This module imports nothing: the nodes import ``budget`` and ``commit``, and ``runner`` imports the
graph, so re-exporting ``runner`` here would make every node import the whole graph.
"""
