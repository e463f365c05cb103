"""The Train button and Play ticks: how many iterations each asks of `Session.train`.

A DivergenceError never raises into the page: it stays on the run (`Run.error`), pauses Play and
comes back in the TrainOutcome.
"""
from __future__ import annotations

from rnn_core import limits

from .session import Progress, Session, State, TrainOutcome, session_of

PLAY_INTERVAL_S = 0.5        # seconds between Play ticks
PLAY_BUDGET = 0.4            # share of a tick interval spent training
PROGRESS_AFTER_S = 1.0      # a click expected to take longer than this shows a progress bar


def expected_seconds(sess: Session, n: int) -> float | None:
    """How long n iterations of the whole group should take at the measured speed; None if never measured.

    The session's rate is the group's last measured speed (all runs in lock step); after a new run or a
    reopened one it is 0 until the first step, and the active trainer's own last speed stands in.
    """
    rate = sess.train_rate or float(getattr(sess.trainer, "iters_per_second", 0.0) or 0.0) / max(1, len(sess.runs))
    return n / rate if rate > 0 else None


def wants_progress(sess: Session, n: int) -> bool:
    """Show a progress bar for this click? Yes if it should take over PROGRESS_AFTER_S, or if the speed is
    not known yet (the bar then costs one chunk's redraw; a silent wait of unknown length costs more)."""
    t = expected_seconds(sess, n)
    return t is None or t > PROGRESS_AFTER_S


def train_click(ss: State, on_progress: Progress | None = None) -> TrainOutcome:
    """The Train button: n_iters iterations, reporting progress when `wants_progress` says so."""
    sess, n = session_of(ss), int(ss["n_iters"])
    return sess.train(n, on_progress if wants_progress(sess, n) else None)


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


__all__ = ["PLAY_INTERVAL_S", "PLAY_BUDGET", "PROGRESS_AFTER_S", "expected_seconds", "wants_progress", "train_click", "play_batch", "tick"]
