"""The Train button and Play ticks: how many iterations each asks of `Session.train`.

A DivergenceError never raises into the page: it stays on the run (`Run.error`), pauses Play and
comes back in the TrainOutcome.
"""
from __future__ import annotations

from rnn_core import limits

from .session import Progress, Session, State, TrainOutcome, session_of

PLAY_INTERVAL_S = 0.5        # seconds between Play ticks
PLAY_BUDGET = 0.4            # share of a tick interval spent training
PROGRESS_MIN_ITERS = 2000    # a click of more iterations shows a progress bar


def train_click(ss: State, on_progress: Progress | None = None) -> TrainOutcome:
    """The Train button: n_iters iterations, with a progress bar when the click is long."""
    n = int(ss["n_iters"])
    return session_of(ss).train(n, on_progress if n >= PROGRESS_MIN_ITERS else None)


def play_batch(sess: Session, interval: float = PLAY_INTERVAL_S) -> int:
    """Iterations for one Play tick: about PLAY_BUDGET of the interval at the measured speed.

    Not capped by n_iters (that is the Train button's): Play trains as fast as the machine allows
    while the page stays responsive.
    """
    rate = sess.train_rate
    want = int(rate * PLAY_BUDGET * interval) if rate > 0 else 20
    return max(1, min(want, limits.MAX_ITERS_PER_CLICK))


def tick(ss: State) -> TrainOutcome:
    """One Play tick; on divergence Play stops (the message stays on the run: Run.error)."""
    sess = session_of(ss)
    return sess.train(play_batch(sess))


__all__ = ["PLAY_INTERVAL_S", "PLAY_BUDGET", "PROGRESS_MIN_ITERS", "train_click", "play_batch", "tick"]
