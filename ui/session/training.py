"""The Train button: how many iterations a click asks of `Session.train`, and when it shows progress.

Play is not here any more: the session's Group trains in its own thread until Pause, and the page's
live fragment only reads the mirrors (ui/session/player.py). A DivergenceError never raises into the
page: it stays on the run (`Run.error`), stops Play and comes back in the TrainOutcome.
"""
from __future__ import annotations

from .session import Progress, Session, State, TrainOutcome, session_of

PLAY_INTERVAL_S = 0.5        # seconds between redraws of the live panels during Play
PROGRESS_MIN_SECONDS = 1.0   # a click expected to take longer than this (at the measured speed) shows a bar
PROGRESS_MIN_ITERS = 2000    # before any speed is measured, a click of at least this many shows a bar


def shows_progress(sess: Session, n: int) -> bool:
    """Whether a click of n iterations gets a progress bar: expected to take over ~1 s at the measured speed."""
    rate = sess.group.speed() if sess.group is not None else 0.0
    return n / rate > PROGRESS_MIN_SECONDS if rate > 0 else n >= PROGRESS_MIN_ITERS


def train_click(ss: State, on_progress: Progress | None = None) -> TrainOutcome:
    """The Train button: n_iters iterations in the workers, reporting progress when the click is long."""
    n = int(ss["n_iters"])
    sess = session_of(ss)
    return sess.train(n, on_progress if shows_progress(sess, n) else None)


__all__ = ["PLAY_INTERVAL_S", "PROGRESS_MIN_SECONDS", "PROGRESS_MIN_ITERS", "shows_progress", "train_click"]
