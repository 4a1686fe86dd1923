"""The short answer printed on top of a report: a span and the chain of cited statements that holds it.

``choose_answer`` runs after verification, over what the run holds (the model's verified answer, the
verified sections, the findings, the knowledge graph's facts, the passages cited); it never calls a
model, so the floor (no model) gets the same span picker. Its result is the state's ``answer``:
``{"text", "sentences", "source", "not_found", "span"}`` — with ``not_found`` the text is empty and the
report says the answer was not found instead of printing a guess. A question that asks for an explanation
(``candidates.factoid`` false: "How do perovskite cells work?") gets the verified answer's sentences and
no span (``span`` false).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.answer.candidates import factoid
from agents.answer.chain import Chain, best_chain, statement_pool, yes_no
from agents.answer.compare import both, compare

NOT_FOUND = "The pages read do not link an answer to the question's own names and terms, so no answer is given."


def chain_sentences(chain: Chain) -> list[dict[str, Any]]:
    """The chain's statements as cited report sentences (question side first, the answer's own last)."""
    return [{"text": s.text, "chunk_ids": list(s.chunk_ids), "status": "supported"} for s in chain.statements]


def choose_answer(
    question: str, verified: Mapping[str, Any], sections: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]], facts: Sequence[Mapping[str, Any]], texts: Mapping[str, str],
    model_answer: str = "",
) -> dict[str, Any]:
    """The answer by chain of evidence (see the module docstring).

    ``verified`` is the verifier's answer (its ``sentences`` verified, ``source`` model or floor);
    ``model_answer`` is the model's raw short answer; ``texts`` maps chunk ids to their text.
    """
    if not factoid(question):  # an explanation is asked for: the verified answer's sentences, no span
        said = list(verified.get("sentences", []))
        return {"text": str(verified.get("text", "")) if said else "", "sentences": said,
                "source": str(verified.get("source", "floor")), "not_found": not said, "span": False}
    own = verified.get("sentences", []) if verified.get("source") == "model" else []
    pool = statement_pool(own, sections, findings, facts, texts)
    # "both Z?" read off each side's own statements first: the evidence, not a small model's leaning to "yes"
    chain = both(question, pool) or yes_no(question, model_answer, pool)
    if chain is None:
        held, compared = best_chain(question, pool, model_answer), compare(question, pool)
        # A comparison measured on both sides (dates, lifespans, counts) wins; one read from terms yields to
        # the model's own held answer.
        model_held = held is not None and held.candidate.model
        chain = compared[0] if compared is not None and (compared[1] or not model_held) else held
    source = "model" if chain is not None and chain.candidate.model else "floor"
    if chain is None:
        return {"text": "", "sentences": [], "source": str(verified.get("source", "floor")), "not_found": True,
                "span": True}
    return {"text": chain.candidate.text, "sentences": chain_sentences(chain), "source": source, "not_found": False,
            "span": True}
