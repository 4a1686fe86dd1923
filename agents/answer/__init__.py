"""Answers by evidence: the span picker, chains of cited statements, and passages ranked for the question.

- ``choose_answer`` (``pick``): the short answer and its chain, or "not found";
- ``best_chain`` / ``statement_pool`` (``chain``): the chains themselves;
- ``rank_passages`` (``evidence``): passages in the order a model should read them.
"""

from agents.answer.chain import Chain, best_chain, statement_pool
from agents.answer.evidence import rank_passages
from agents.answer.pick import NOT_FOUND, choose_answer

__all__ = ["NOT_FOUND", "Chain", "best_chain", "choose_answer", "rank_passages", "statement_pool"]
