"""The Train button: how many iterations a click asks of `Session.train`, and when it shows progress.

Play is not here any more: the session's Group trains in its own thread until Pause, and the page's
live fragment only reads the mirrors (ui/session/player.py). A DivergenceError never raises into the
page: it stays on the run (`Run.error`), stops Play and comes back in the TrainOutcome.
"""
from __future__ import annotations

from .session import Progress, Session, State, TrainOutcome, session_of

PLAY_INTERVAL_S = 0.5        # seconds between redraws of the live panels during Play
PROGRESS_AFTER_S = 1.0       # a click expected to take longer than this (at the measured speed) shows a bar


def expected_seconds(sess: Session, n: int) -> float | None:
    """How long n iterations of the whole group should take at its measured speed; None if never measured.

    The rate is the group's wall-clock speed over its last few seconds of training (all runs in lock
    step, so it is every run's); a new or reopened group has none until it has trained.
    """
    rate = sess.train_rate
    return n / rate if rate > 0 else None


def wants_progress(sess: Session, n: int) -> bool:
    """Show a progress bar for this click? Yes if it should take over PROGRESS_AFTER_S, or if the speed is
    not known yet (the bar then costs a redraw or two; a silent wait of unknown length costs more)."""
    t = expected_seconds(sess, n)
    return t is None or t > PROGRESS_AFTER_S


def train_click(ss: State, on_progress: Progress | None = None) -> TrainOutcome:
    """The Train button: n_iters iterations in the workers, reporting progress when `wants_progress` says so."""
    sess, n = session_of(ss), int(ss["n_iters"])
    return sess.train(n, on_progress if wants_progress(sess, n) else None)


__all__ = ["PLAY_INTERVAL_S", "PROGRESS_AFTER_S", "expected_seconds", "wants_progress", "train_click"]
