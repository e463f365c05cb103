"""Play, Pause and Train N for a group of 1..3 runs, each in its own worker, in lock step.

One plain thread per group (in the page server) drives the workers: each chunk, every run trains the
same number of iterations, in parallel (one call per worker), sized from the measured speed to about
`chunk_seconds`. Chunks are pipelined: PIPELINE of them are queued at each worker, so a worker starts
the next chunk while the driver is still applying the last one. The driver shares the page server's
GIL with every visitor's redraws; without the queue a worker idled whenever a redraw held the GIL.
Pause therefore lands after the chunks already queued (PIPELINE x chunk_seconds at most).

After each chunk the group updates a driver-side mirror of every run (counters, loss history, samples,
the chosen view's snapshot): the page reads mirrors and never waits on a worker to draw.

A run whose worker died, or whose worker the pool released while nobody looked, comes back from its
last save in the run store; if iterations were lost, `notice` says how many.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import ray

from rnn_core import TrainConfig

from .cluster import unwrap
from .mirror import RunMirror
from .pool import Busy, WorkerPool
from .workers import MAX_CHUNK

CHUNK_SECONDS = 0.08   # work per chunk
PIPELINE = 2           # chunks queued at each worker: Pause lands within about PIPELINE chunks
SPEED_WINDOW = 3.0     # seconds of wall clock behind the Speed readout
VIEW_EVERY = 0.25      # while playing, refresh the chosen view at most this often (the page redraws ~2/s)
# Play pauses itself when no page has read the group for this long: a closed tab must not keep a core busy
# for everyone else on the server. An open tab reads twice a second; a hidden one, throttled by the
# browser (Chrome: timers at most once a minute after 5 minutes hidden), still reads within this.
UNWATCHED_SECONDS = 120.0


@dataclass
class _Chunk:
    """One chunk sent to the workers and not yet applied to the mirrors."""

    k: int
    handles: list       # the workers it went to, in group order
    needs: dict         # run_id -> iterations it trains (runs with nothing to do are absent)
    refs: dict          # run_id -> ref of its step call
    views: dict         # run_id -> ref of its view snapshot, when one was due
    request: dict | None


class Group:
    """1..3 runs trained together. Page-facing methods are thread-safe and return at once (pause waits
    for the chunks queued at the workers)."""

    def __init__(self, pool: WorkerPool, run_ids, *, owner: str = "", chunk_seconds: float = CHUNK_SECONDS,
                 speed_window: float = SPEED_WINDOW, view_every: float = VIEW_EVERY,
                 unwatched_seconds: float = UNWATCHED_SECONDS):
        self.pool, self.run_ids, self.owner = pool, list(run_ids), owner
        if not 1 <= len(self.run_ids) <= 3:
            raise ValueError("A group trains one to three runs side by side.")
        self.chunk_seconds, self.speed_window, self.view_every = chunk_seconds, speed_window, view_every
        self.unwatched_seconds = unwatched_seconds
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._speed: deque = deque()            # (wall time, iterations each run has trained in this group)
        self._trained = 0
        self._k = 1                              # iterations per chunk, adapted to the measured speed
        self._view_request: dict | None = None
        self._view_for: str | None = None      # the run whose view is computed (None: every run)
        self._view_due = 0.0
        self._last_read = pool.clock()
        self.chunks = 0                          # chunks run so far (tests count Pause latency in chunks)
        self.progress = (0, 0)                   # Train N: (done, total)
        self.error: str | None = None            # a divergence (or Busy) that stopped training
        self.notice: str | None = None           # a restore that lost iterations
        self.mirrors: dict[str, RunMirror] = {}
        for r, info in zip(self.run_ids, self.call_all("info")):
            self._reset(r, info)

    # ---- what the page reads -------------------------------------------------------------
    def read(self) -> list[RunMirror]:
        """Copies of the mirrors, in group order (no worker call); also marks the runs as looked at."""
        self._last_read = self.pool.clock()
        self.pool.touch(self.run_ids)
        with self._lock:
            return [self.mirrors[r].copy() for r in self.run_ids]

    @property
    def playing(self) -> bool:
        t = self._thread
        return t is not None and t.is_alive()

    @property
    def chunk_size(self) -> int:  # iterations per run per chunk of Play, from the measured speed (1 at first)
        return self._k

    def speed(self) -> float:
        """Iterations per second per run, by the wall clock over the last few seconds of training."""
        with self._lock:
            pts = list(self._speed)
        if len(pts) < 2:
            return 0.0
        end = time.monotonic() if self.playing else pts[-1][0]   # paused: the rate it last trained at
        recent = [p for p in pts if p[0] >= end - self.speed_window]
        if len(recent) < 2:
            recent = pts[-2:]
        (t0, i0), (t1, i1) = recent[0], recent[-1]
        return (i1 - i0) / (end - t0) if end > t0 else 0.0

    # ---- Play, Pause, Train N ------------------------------------------------------------
    def play(self) -> bool:
        return self._launch(None)

    def train(self, n: int) -> bool:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"Train needs a whole number of iterations >= 1, not {n!r}.")
        return self._launch(int(n))

    def pause(self, wait: bool = True, timeout: float = 5.0) -> None:
        """Stop after the chunks queued at the workers; with wait, return once they have landed in the mirrors."""
        self._stop.set()
        t = self._thread
        if wait and t is not None and t is not threading.current_thread():
            t.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        t = self._thread
        if t is not None:
            t.join(timeout)

    def _launch(self, total: int | None) -> bool:
        with self._lock:
            if self.playing:
                return False
            self._last_read = self.pool.clock()
            self.error = None
            self.progress = (0, total or 0)
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, args=(total,), daemon=True, name="group-player")
            self._thread.start()
            return True

    def _loop(self, total: int | None) -> None:
        pending: deque[_Chunk] = deque()
        sent = done = 0
        halt = False
        try:
            while True:
                while not halt and len(pending) < PIPELINE and not self._stop.is_set() \
                        and (total is None or sent < total):
                    if total is None and self.pool.clock() - self._last_read > self.unwatched_seconds:
                        self.notice = "Play paused itself: nobody was watching this page."
                        halt = True
                        break
                    k = self._k if total is None else min(self._k, total - sent)
                    pending.append(self._send(k, pending))
                    sent += k
                if not pending:
                    break
                chunk = pending.popleft()
                halt = not self._land(chunk) or halt
                done += chunk.k
                if total is not None:
                    self.progress = (done, total)
            if total is None and not self._stop.is_set():  # Play ended by itself (nobody watching): keep it.
                self.save()  # After Pause or Train N the page saves once it has drawn them: Pause waits for no save
        except Busy as busy:
            self.error = str(busy)
        except Exception as err:  # never die silently in a thread: the page shows why training stopped
            self.error = f"Training stopped: {type(err).__name__}: {err}"
        finally:
            for chunk in pending:  # already queued at the workers: the mirrors must see what they did
                try:
                    self._land(chunk)
                except Exception:
                    pass

    # ---- one chunk -----------------------------------------------------------------------
    def _needs(self, k: int, handles: list, pending) -> dict:
        """Iterations each run trains this chunk: every run that can train reaches lead + k. A run that
        lags (added late, or behind after a divergence) catches up by at most k extra; a run whose
        divergence needs a Reset stays where it stopped while another can train (alone, it is stepped
        again, so the click reports why nothing moves). Counts what the chunks still queued at the same
        worker will train."""
        with self._lock:
            its = {r: self.mirrors[r].iteration for r in self.run_ids}
            live = [r for r in self.run_ids if not self.mirrors[r].needs_reset] or list(self.run_ids)
        for i, r in enumerate(self.run_ids):
            its[r] += sum(c.needs.get(r, 0) for c in pending if c.handles[i] is handles[i])
        goal = max(its[r] for r in live) + k
        return {r: min(goal - its[r], 2 * k) for r in live if goal - its[r] > 0}

    def _send(self, k: int, pending) -> _Chunk:
        """Queue k iterations (and the chosen view, when due) at every run's worker."""
        now = time.monotonic()
        with self._lock:
            request = self._view_request if self._view_request and now >= self._view_due else None
            view_for = self._view_for
            if request:
                self._view_due = now + self.view_every
        handles, restored = self.pool.checkout(self.run_ids, self.owner)
        try:
            for r, info in restored.items():
                self._reset(r, info)
            needs = self._needs(k, handles, pending)
            refs = {r: h.step.remote(needs[r]) for r, h in zip(self.run_ids, handles) if r in needs}
            views = {r: h.snapshot.remote(request) for r, h in zip(self.run_ids, handles)
                     if request and view_for in (None, r)}
        except BaseException:
            self.pool.checkin(self.run_ids)
            raise
        return _Chunk(k, handles, needs, refs, views, request)

    def _land(self, chunk: _Chunk) -> bool:
        """Wait for a chunk and apply it to the mirrors; False when training must stop (a divergence)."""
        ticks, dead, got = {}, [], {}
        try:
            for r, h in zip(self.run_ids, chunk.handles):
                try:
                    if r in chunk.refs:
                        ticks[r] = ray.get(chunk.refs[r])
                    got[r] = self._view(chunk.views.get(r))
                except ray.exceptions.RayActorError:
                    ticks.pop(r, None)
                    dead.append(r)
            with self._lock:  # all runs at once: a reader never sees the group halfway through a chunk
                for r, tick in ticks.items():
                    self.mirrors[r].apply(tick)
                for r, view in got.items():
                    if view is not None:
                        self.mirrors[r].view = {**view, "request": chunk.request}
            for r, tick in ticks.items():
                if tick.saved_iteration is not None:
                    self.pool.saved(r)
            for r in [r for r, t in ticks.items() if t.resync]:
                self._reset(r, unwrap(chunk.handles[self.run_ids.index(r)].info.remote()))
        finally:
            self.pool.checkin(self.run_ids)
        for r in dead:  # the next checkout restores it from the run store and says what was lost
            self.pool.forget(r, chunk.handles[self.run_ids.index(r)])
        self._after_chunk(ticks)
        errors = [f"{self._label(r)}: {t.error}" for r, t in ticks.items() if t.error]
        if errors:
            self.error = self.error or " ".join(errors)
            return False
        return True

    def _after_chunk(self, ticks: dict) -> None:
        done = max((t.done for t in ticks.values()), default=0)
        rate = min((t.done / t.seconds for t in ticks.values() if t.seconds > 0 and t.done), default=None)
        with self._lock:
            self.chunks += 1
            self._trained += done
            now = time.monotonic()
            self._speed.append((now, self._trained))
            while self._speed and self._speed[0][0] < now - 2 * self.speed_window:
                self._speed.popleft()
            if rate is not None:  # grow at most 4x a chunk: the first, one-iteration chunks time noisily
                self._k = int(np.clip(rate * self.chunk_seconds, 1, min(MAX_CHUNK, 4 * self._k)))

    @staticmethod
    def _view(vref):
        if vref is None:
            return None
        try:
            return unwrap(vref)
        except ValueError as err:  # a bad probe text: the view says so, training goes on
            return {"error": str(err)}

    def _reset(self, run_id: str, info: dict) -> None:
        with self._lock:
            old = self.mirrors.get(run_id)
            self.mirrors[run_id] = fresh = RunMirror.from_info(info)
            if old is not None:
                fresh.view, fresh.error, fresh.needs_reset = old.view, old.error, old.needs_reset
                lost = old.iteration - fresh.iteration
                if lost > 0:
                    self.notice = (f"The worker training {self._label(run_id)} stopped; the run was restored from "
                                   f"its last save at iteration {fresh.iteration:,}, so {lost:,} iterations were lost.")

    def _saved(self, run_id: str, result) -> None:
        iteration, error = result if isinstance(result, tuple) else (result, None)
        with self._lock:
            m = self.mirrors[run_id]
            if iteration is not None:
                m.saved_iteration, m.save_error = iteration, None
            if error is not None:
                m.save_error = error
                if error[0] == "broken":
                    m.broken = m.broken or error[1]
        if iteration is not None:
            self.pool.saved(run_id)

    def _label(self, run_id: str) -> str:
        m = self.mirrors.get(run_id)
        return f"run {self.run_ids.index(run_id) + 1} ({m.config.cell.upper()}, lr {m.config.learning_rate:g})" if m else run_id

    # ---- direct calls (paused or not; a worker runs one call at a time, so these wait for a chunk) ----
    def set_view(self, request: dict | None, index: int | None = None) -> list | None:
        """Choose the look-inside view (of run `index`, or of every run). Paused: computed now and
        returned; playing: on the next chunk (the page polls the mirror for it, see `view_of`)."""
        run_for = None if index is None else self.run_ids[index]
        with self._lock:
            self._view_request, self._view_for, self._view_due = request, run_for, 0.0
        if request is None or self.playing:
            return None
        ids = self.run_ids if run_for is None else [run_for]
        views = self._call_runs(ids, "snapshot", (request,), {})
        with self._lock:
            for r, v in zip(ids, views):
                self.mirrors[r].view = {**v, "request": request}
        return views

    def save(self) -> None:
        """Every run's worker saves now (refusals and failures land in the mirrors' save_error)."""
        self._call_all(lambda h: h.autosave.remote(), self._saved)

    def apply_live(self, index: int, **changes) -> dict:
        """Learning rate, optimizer or clip of run `index`: in its worker (between chunks), then its mirror."""
        config = self.call(index, "apply_live", **changes)
        with self._lock:
            self.mirrors[self.run_ids[index]].config = TrainConfig(**config)
        return config

    def mark_broken(self, index: int, why: str) -> None:
        """The page could not draw run `index`: its worker never saves it again (its last good file stays)."""
        self.call(index, "mark_broken", why)
        with self._lock:
            m = self.mirrors[self.run_ids[index]]
            m.broken = m.broken or why

    def view_request(self) -> tuple[dict | None, str | None]:
        """(the view request the group computes while it trains, the run it is for; None: every run)."""
        with self._lock:
            return self._view_request, self._view_for

    def view_of(self, index: int) -> dict | None:
        with self._lock:
            return self.mirrors[self.run_ids[index]].view

    def refresh(self, run_id: str) -> None:
        """Re-read one run's mirror from its worker (after another group trained it)."""
        self._reset(run_id, self._call_runs([run_id], "info", (), {})[0])

    def call(self, index: int, method: str, *args, **kwargs):
        """One worker method on run `index` (sample, apply_live, checkpoint, save, probe...)."""
        return self._call_runs([self.run_ids[index]], method, args, kwargs)[0]

    def call_all(self, method: str, *args, **kwargs) -> list:
        return self._call_runs(self.run_ids, method, args, kwargs)

    def _call_runs(self, run_ids, method, args, kwargs) -> list:
        for attempt in (0, 1):
            handles, restored = self.pool.checkout(run_ids, self.owner)
            try:
                for r, info in restored.items():
                    self._reset(r, info)
                refs = [getattr(h, method).remote(*args, **kwargs) for h in handles]
                return [unwrap(ref) for ref in refs]
            except ray.exceptions.RayActorError:
                if attempt:
                    raise
                self._forget_dead(run_ids, handles)  # died between chunks: restored on the retry
            finally:
                self.pool.checkin(run_ids)

    def _call_all(self, submit, receive) -> None:
        """submit(handle) -> ref for every run, in parallel; receive(run_id, result) for each living one."""
        handles, _ = self.pool.checkout(self.run_ids, self.owner)
        try:
            refs = [submit(h) for h in handles]
            for r, h, ref in zip(self.run_ids, handles, refs):
                try:
                    receive(r, unwrap(ref))
                except ray.exceptions.RayActorError:
                    self.pool.forget(r, h)
        finally:
            self.pool.checkin(self.run_ids)

    def _forget_dead(self, run_ids, handles) -> None:
        for r, h in zip(run_ids, handles):
            try:
                ray.get(h.where.remote())
            except ray.exceptions.RayActorError:
                self.pool.forget(r, h)


__all__ = ["CHUNK_SECONDS", "PIPELINE", "UNWATCHED_SECONDS", "Group", "RunMirror"]
