"""How fast the run's models go, learned from the calls they make, and whether the next call fits.

A model call's time grows with its tokens: prompt tokens are read in batches (on two CPU cores a 1.5B
model reads about 130 a second) and completion tokens are written one at a time (about 12 a second),
so one completion token costs about ``WRITE_COST`` prompt tokens; and every token costs more the longer
the context it attends to, so a call's work is its tokens scaled by ``1 + context / CONTEXT_SLOWDOWN``
(``call_work``). ``Pace`` keeps, per model, the seconds and the work of the calls made so far,
and per answer kind (a schema's title) the completion tokens they wrote, so it can say before a call
how long it will take. Calls already running on the same model are counted too: an in-process model
serves one call at a time, so a call queued behind two others finishes after them.

Everything here is plain arithmetic over numbers, so the budget gate in ``agents.context.ask`` and
its tests need no model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

WRITE_COST = 10.0  # prompt tokens one completion token costs in time (CPU decoding, measured 134 / 11.7)
# The context length at which a token costs twice what it costs at the start of the context (attention reads
# every earlier token). Fitted on the 1.5B on two CPU cores (20 HotpotQA runs): its 3,000-token drafting calls
# ran at 0.7 of the speed of its 800-token findings calls, and a linear estimate made from the findings calls
# came out 1.48 times short for the drafting call (1.01 with this term, the first run of a process 1.30).
CONTEXT_SLOWDOWN = 4000.0
# Completion tokens assumed for an answer kind never seen before, and for the kinds known to be longer (the
# whole report in one call): on the high side (the 1.5B wrote 87-384 for findings, 165-383 for a report over
# 20 HotpotQA runs), since an estimate that runs short lets research eat the drafting call's time.
FIRST_ANSWER = 250
FIRST_ANSWERS = {"Report": 350, "ShortAnswer": 30}  # a short answer is a few words in one JSON field
# The drafting call's prompt before one is measured: twelve passages and the findings, packed by the drafter
# (2,394-3,468 tokens on the 1.5B in 20 standard runs); a findings call reads far fewer (one agent's pages),
# so its prompt does not predict this one.
DRAFT_PROMPT = 3200
ANSWER_PROMPT = 1200  # the focused answer call's prompt at most (agents.drafter.focused_answer)
DRAFT_MARGIN = 1.3  # the drafting time kept free is this much more than its estimate (the worst run measured)
MIN_RESERVE = 0.10  # and never less than this share of the time budget
SMOOTHING = 0.5  # weight of the newest call in an answer kind's running estimate


@dataclass
class ModelPace:
    """The measured speed of one model.

    ``seconds`` is the model's busy time (while at least one call is in flight), not the sum of the calls'
    durations: parallel agents queue on an in-process model, and a call's duration includes its wait, so
    summing durations would measure the model several times slower than it is.
    """

    seconds: float = 0.0
    work: float = 0.0  # prompt tokens + WRITE_COST × completion tokens
    calls: int = 0
    mark: float = 0.0  # when busy time was last counted up to
    answer_tokens: dict[str, float] = field(default_factory=dict)  # answer kind -> expected completion tokens
    prompt_tokens: dict[str, float] = field(default_factory=dict)  # answer kind -> running mean of its prompts
    running: dict[int, float] = field(default_factory=dict)  # call id -> its estimated seconds

    def work_per_second(self) -> float | None:
        """Work units per second (None before the first measured call)."""
        return self.work / self.seconds if self.calls and self.seconds > 0 and self.work > 0 else None


def call_work(prompt_tokens: float, completion_tokens: float) -> float:
    """The work of one call, in units of a prompt token read at the start of the context."""
    tokens = prompt_tokens + WRITE_COST * completion_tokens
    return tokens * (1.0 + (prompt_tokens + completion_tokens) / CONTEXT_SLOWDOWN)


def prompt_fitting(seconds: float, speed: float, completion_tokens: float) -> int:
    """The longest prompt (tokens) whose call, writing ``completion_tokens``, takes at most ``seconds``.

    ``call_work`` grows without bound in the prompt, so the largest fit is found by doubling, then
    bisection (0: not even an empty prompt fits).
    """
    work = seconds * speed
    if call_work(0, completion_tokens) > work:
        return 0
    lo, hi = 0, 1
    while call_work(hi, completion_tokens) <= work:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if call_work(mid, completion_tokens) <= work else (lo, mid)
    return lo


@dataclass
class Pace:
    """Per-model speed and the calls in flight; safe to share between the threads of one run."""

    models: dict[str, ModelPace] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 0

    def _model(self, name: str) -> ModelPace:
        return self.models.setdefault(name, ModelPace())

    def expected_answer(self, model: str, kind: str, cap: int) -> float:
        """Completion tokens a ``kind`` answer is expected to take (never more than ``cap``)."""
        with self._lock:
            return min(float(cap), self._model(model).answer_tokens.get(kind, FIRST_ANSWERS.get(kind, FIRST_ANSWER)))

    def estimate_s(self, model: str, prompt_tokens: int, completion_tokens: float) -> float | None:
        """Seconds the call would take once it starts (None: nothing measured yet, so no estimate)."""
        with self._lock:
            speed = self._model(model).work_per_second()
        return None if speed is None else call_work(prompt_tokens, completion_tokens) / speed

    def queued_s(self, model: str) -> float:
        """Estimated seconds of the calls already running or queued on ``model``."""
        with self._lock:
            return sum(self._model(model).running.values())

    def start(self, model: str, estimate_s: float, now: float) -> int:
        """Register a call in flight at time ``now``; returns its id for ``finish``."""
        with self._lock:
            pace = self._model(model)
            if not pace.running:
                pace.mark = now  # the model was idle: its busy time starts counting here
            self._next_id += 1
            pace.running[self._next_id] = estimate_s
            return self._next_id

    def finish(
        self, model: str, call_id: int, kind: str, now: float, prompt_tokens: int, completion_tokens: int
    ) -> None:
        """Record a call finished at ``now`` (a call that used no tokens, such as a declined one, teaches nothing)."""
        with self._lock:
            pace = self._model(model)
            busy = max(0.0, now - pace.mark)
            pace.mark = now
            pace.running.pop(call_id, None)
            pace.seconds += busy  # declined calls' time too: the model was not free then
            if prompt_tokens + completion_tokens <= 0:
                return
            pace.work += call_work(prompt_tokens, completion_tokens)
            pace.calls += 1
            for seen, value in ((pace.answer_tokens, completion_tokens), (pace.prompt_tokens, prompt_tokens)):
                before = seen.get(kind)
                seen[kind] = float(value) if before is None else before + SMOOTHING * (value - before)

    def prompt_of(self, model: str, kind: str) -> float | None:
        """The running mean prompt of ``kind`` calls on ``model`` (None before one was made)."""
        with self._lock:
            return self._model(model).prompt_tokens.get(kind)

    def draft_prompt(self, model: str) -> float:
        """Prompt tokens the drafting call is expected to read: a measured one, else ``DRAFT_PROMPT``."""
        report = self.prompt_of(model, "Report")
        return DRAFT_PROMPT if report is None else report

    def prompt_within(self, model: str, seconds: float, completion_tokens: float) -> int | None:
        """The longest prompt a call on ``model`` writing ``completion_tokens`` can read in ``seconds``
        after the calls already queued on it (None before the model's pace is measured)."""
        with self._lock:
            speed = self._model(model).work_per_second()
        return None if speed is None else prompt_fitting(seconds - self.queued_s(model), speed, completion_tokens)

def refusal(
    *, seconds_left: float, estimate_s: float | None, queued_s: float, tokens_left: int, tokens_needed: float
) -> str | None:
    """Why a call must not start ("time", "tokens") or None when it fits.

    A call fits the time budget when the calls queued before it and its own estimate end before the
    deadline; with no estimate yet (the model's first call) only a spent budget refuses it.
    """
    if tokens_left <= 0 or tokens_needed > tokens_left:
        return "tokens"
    if seconds_left <= 0:
        return "time"
    if estimate_s is not None and queued_s + estimate_s > seconds_left:
        return "time"
    return None


def research_deadline_s(budget_s: float, draft_estimate_s: float | None, share: float) -> float:
    """When research must stop calling the model: early enough for the drafting call to fit after it.

    Without a measured pace it is ``share`` of the budget; with one, the budget less the drafting call's
    estimate (with a margin), and never less than ``MIN_RESERVE`` of the budget kept free.
    """
    if draft_estimate_s is None:
        return budget_s * share
    return budget_s - max(MIN_RESERVE * budget_s, DRAFT_MARGIN * draft_estimate_s)
