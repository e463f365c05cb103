"""Training the session's runs in lock step: the Train button, Play ticks and their sizes, without Streamlit.

Every action takes the session-state mapping (see ui/state.py for its layout); `train`, which the
Train button and Play ticks go through, holds the session's training lock (`state.training_lock`)
while it changes weights. A DivergenceError never raises into the page: it stays on the run
(`Run.error`), pauses Play and comes back in the TrainOutcome.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from rnn_core import DivergenceError, limits

from .compare import lead_iteration, run_names
from .state import Run, State, training_lock

PLAY_INTERVAL_S = 0.5        # seconds between Play ticks
PLAY_BUDGET = 0.4            # share of a tick interval spent training
PROGRESS_MIN_ITERS = 2000    # a click of more iterations shows a progress bar...
PROGRESS_CHUNK_S = 0.25      # ...updated about this often (and interruptible there)


@dataclass
class TrainOutcome:
    iters: int = 0          # iterations the first run advanced (all runs move in lock step)
    seconds: float = 0.0    # wall time inside Trainer.step, all runs
    error: str | None = None


def train(ss: State, n: int, on_progress: Callable[[int, int], None] | None = None) -> TrainOutcome:
    """Advance every run by n iterations in lock step (details: _train), holding the training lock."""
    with training_lock(ss):  # an older run of the script may still be training: wait for it
        return _train(ss, n, on_progress)


def _train(ss: State, n: int, on_progress: Callable[[int, int], None] | None = None) -> TrainOutcome:
    """Advance every run by n iterations in lock step.

    With `on_progress`, the work is cut into chunks of about PROGRESS_CHUNK_S and
    on_progress(done, n) is called after each (the page's progress bar; Streamlit may
    stop the script there, between chunks, which leaves every run consistent).
    A DivergenceError pauses Play, is kept in that run's `error` (shown until the run trains
    again or is replaced) and returned as `error`; the other runs still finish that chunk
    (see `step_group`), so they stay level.
    """
    n = max(0, min(int(n), limits.MAX_ITERS_PER_CLICK))
    group = ss["runs"]
    rate = ss.get("train_rate") or 0.0
    chunk = n
    if on_progress is not None:
        chunk = max(1, min(n, int(rate * PROGRESS_CHUNK_S) if rate > 0 else 100))
    out = TrainOutcome()
    start = lead_iteration(group)
    done = 0
    while done < n:
        k = min(chunk, n - done)
        t0 = time.perf_counter()
        failed = step_group(group, k)
        if failed:
            out.error = "\n\n".join(run.error for run in failed)
            ss["playing"] = False
            out.seconds += time.perf_counter() - t0
            break
        dt = time.perf_counter() - t0
        out.seconds += dt
        done += k
        if dt > 0:
            ss["train_rate"] = k / dt
        if on_progress is not None:
            on_progress(done, n)
    out.iters = lead_iteration(group) - start
    ss["last_train"] = {"iters": out.iters, "seconds": out.seconds}
    return out


def step_group(group: list[Run], k: int) -> list[Run]:
    """One lock-step chunk: every run that can train reaches the same iteration, lead + k.

    Runs go one after the other; a run that diverges keeps its error and the others still take
    their step, so they stay level (no "the runs before it already advanced" slip). A run that lags
    (it diverged earlier, or was added late) catches up by at most k extra iterations per chunk.
    A run whose divergence needs a Reset is left where it stopped while others can train; alone,
    it is stepped again so the click reports why nothing moves. Returns the runs that diverged.
    """
    live = [r for r in group if not r.needs_reset] or list(group)
    goal = max(r.trainer.iteration for r in live) + k
    failed = []
    for run in live:
        need = min(goal - run.trainer.iteration, 2 * k)
        if need <= 0:
            continue
        try:
            run.trainer.step(need)
            run.error, run.needs_reset = None, False
        except DivergenceError as err:
            run.needs_reset = bool(getattr(err, "needs_reset", False))
            run.error = str(err)
            failed.append(run)
    if failed and len(group) > 1:  # name the run; the others are unaffected
        names = dict(zip(map(id, group), run_names([r.trainer.config for r in group])))
        for run in failed:
            run.error = f"{names[id(run)]}: {run.error} The other runs are unaffected."
    return failed


def train_click(ss: State, on_progress: Callable[[int, int], None] | None = None) -> TrainOutcome:
    """The Train button: n_iters iterations, with a progress bar when the click is long."""
    n = int(ss["n_iters"])
    return train(ss, n, on_progress if n >= PROGRESS_MIN_ITERS else None)


def play_batch(ss: State, interval: float = PLAY_INTERVAL_S) -> int:
    """Iterations for one Play tick: about PLAY_BUDGET of the interval at the measured speed.

    Not capped by n_iters (that is the Train button's): Play trains as fast as the machine allows
    while the page stays responsive.
    """
    rate = ss.get("train_rate") or 0.0
    want = int(rate * PLAY_BUDGET * interval) if rate > 0 else 20
    return max(1, min(want, limits.MAX_ITERS_PER_CLICK))


def tick(ss: State) -> TrainOutcome:
    """One Play tick; on divergence Play stops (the message stays on the run: Run.error)."""
    return train(ss, play_batch(ss))


__all__ = ["TrainOutcome", "PLAY_INTERVAL_S", "PLAY_BUDGET", "PROGRESS_MIN_ITERS", "train", "step_group", "train_click",
           "play_batch", "tick"]
