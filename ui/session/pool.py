"""A bounded set of live training workers, shared by every visitor of one page server.

At most `capacity` actors live at once ($CHAR_RNN_MAX_WORKERS, else 4 per CPU of the Ray cluster).
A run nobody has looked at for `idle_seconds` is saved to the run store and its actor released; it
comes back from the run store the next time it is checked out. Asking for more workers than are
free raises Busy with a place in a first-come queue (a waiter that stops asking for `queue_ttl`
seconds loses its place). All methods are thread-safe; actor calls are made outside the lock.

    pool = WorkerPool(store_root)
    run_id = pool.create(text=..., config={...}, owner="tab-1")
    handles, restored = pool.checkout([run_id], owner="tab-1")   # ... train ...
    pool.checkin([run_id])
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import ray

from rnn_core.runstore import RunStore, new_run_id

from .cluster import default_capacity, ensure_ray, unwrap
from .workers import remote_worker

IDLE_SECONDS = 600.0   # ten minutes unseen: the tab is most likely closed
QUEUE_TTL = 30.0       # a page in the queue re-asks on every tick, far more often than this


class Busy(ValueError):
    """Every training worker is taken; `position` is this visitor's place in the queue (1 = next)."""

    def __init__(self, position: int, capacity: int):
        self.position, self.capacity = position, capacity
        super().__init__(
            f"All {capacity} training workers are busy. You are number {position} in the queue; "
            "this page starts training by itself as soon as a worker is free."
        )


@dataclass
class _Entry:
    handle: object
    last_seen: float
    in_use: int = 0              # chunks in flight; an entry in use is never released
    releasing: bool = False
    released: threading.Event = field(default_factory=threading.Event)


class WorkerPool:
    def __init__(self, store_root=None, *, capacity: int | None = None, idle_seconds: float = IDLE_SECONDS,
                 autosave_seconds: float = 5.0, queue_ttl: float = QUEUE_TTL, clock=time.monotonic,
                 reaper: bool = True):
        ensure_ray()
        self.store = RunStore(store_root)
        self.capacity = default_capacity() if capacity is None else int(capacity)
        if self.capacity < 1:
            raise ValueError(f"The pool needs room for at least one worker, not {capacity!r}.")
        self.idle_seconds, self.autosave_seconds, self.queue_ttl = idle_seconds, autosave_seconds, queue_ttl
        self.clock = clock
        self._lock = threading.Condition()
        self._live: dict[str, _Entry] = {}
        self._queue: OrderedDict[str, float] = OrderedDict()   # owner -> when it last asked
        self._reserved = 0                                      # places admitted, worker still starting
        # Where a run that was never saved (still at iteration 0, or killed before its first autosave)
        # comes back from: its text and settings. Dropped once the run store holds the run.
        self._sources: dict[str, dict] = {}
        self._stop = threading.Event()
        if reaper:
            threading.Thread(target=self._reap_forever, name="worker-pool-reaper", daemon=True).start()

    # ---- starting runs --------------------------------------------------------------------
    def create(self, *, text: str | None = None, config: dict | None = None, checkpoint: bytes | None = None,
               meta: dict | None = None, owner: str = "", run_id: str | None = None, stored: bool = False) -> str:
        """Start a worker for a run (from text and settings, checkpoint bytes, or with `stored` the run
        store's copy of `run_id`); returns its id (`run_id` if given, else a new one).

        Raises Busy when full, or the ValueError the text, settings or file deserve (nothing is kept then).
        """
        if stored:
            source = {"stored": True}
        elif checkpoint is not None:
            source = {"checkpoint": checkpoint}
        else:
            source = {"text": text, "config": config or {}}
        run_id = run_id or new_run_id()
        self._admit(owner, 1)
        try:
            info = self._start(run_id, source, meta)
        finally:
            with self._lock:
                self._reserved -= 1
        if info["saved_iteration"] is None and "stored" not in source:
            with self._lock:
                self._sources[run_id] = {**source, "meta": meta}
        return run_id

    def checkout(self, run_ids, owner: str = "") -> tuple[list, dict]:
        """Live handles for these runs, restoring any that was released or lost from the run store.

        Returns (handles in order, {run_id: info} for each run restored now). Marks the runs in use until
        checkin(), so the idle reaper leaves them alone. Raises Busy, or RunNotFound for a run never saved.
        """
        run_ids = list(run_ids)
        if self._stop.is_set():
            raise RuntimeError("The training workers were shut down (the server is stopping).")
        with self._lock:
            for run_id in run_ids:      # one being released right now: wait until it is saved
                while run_id in self._live and self._live[run_id].releasing:
                    self._lock.wait(1.0)
            missing = [r for r in run_ids if r not in self._live]
            for r in run_ids:
                if r in self._live:
                    self._live[r].in_use += 1
        restored = {}
        try:
            if missing:
                self._admit(owner, len(missing))
                try:
                    for r in missing:
                        with self._lock:
                            src = None if self.store.exists(r) else dict(self._sources.get(r) or {}) or None
                        meta = src.pop("meta", None) if src else None
                        restored[r] = self._start(r, src or {"stored": True}, meta, in_use=1)
                finally:
                    with self._lock:
                        self._reserved -= len(missing)
        except BaseException:
            self.checkin([r for r in run_ids if r not in missing or r in restored])
            raise
        with self._lock:
            return [self._live[r].handle for r in run_ids], restored

    def checkin(self, run_ids) -> None:
        with self._lock:
            for r in run_ids:
                if r in self._live:
                    self._live[r].in_use = max(0, self._live[r].in_use - 1)

    def touch(self, run_ids) -> None:
        """Someone looked at these runs (the page read them): they are not idle."""
        now = self.clock()
        with self._lock:
            for r in run_ids:
                if r in self._live:
                    self._live[r].last_seen = now

    def saved(self, run_id: str) -> None:
        """The run store now holds this run: a lost worker comes back from there, not from its settings."""
        with self._lock:
            self._sources.pop(run_id, None)

    def discard(self, run_id: str) -> None:
        """The run left its session (Reset, remove, another run opened): save it and end its worker."""
        self.release(run_id)
        self.saved(run_id)

    def forget(self, run_id: str, handle=None) -> None:
        """Drop a worker that died (no save possible); its next checkout restores the last autosave.
        With `handle`, only if that is still the run's worker (not one restored since)."""
        with self._lock:
            entry = self._live.get(run_id)
            if entry is not None and handle is not None and entry.handle is not handle:
                return
            self._live.pop(run_id, None)
            self._lock.notify_all()
        if entry is not None:
            ray.kill(entry.handle, no_restart=True)

    # ---- releasing -------------------------------------------------------------------------
    def release_idle(self) -> list[str]:
        """Save and release every run not in use and unseen for idle_seconds; returns their ids."""
        cutoff = self.clock() - self.idle_seconds
        with self._lock:
            idle = [r for r, e in self._live.items() if not e.in_use and not e.releasing and e.last_seen <= cutoff]
            for r in idle:
                self._live[r].releasing = True
        for r in idle:
            self.release(r, _marked=True)
        return idle

    def release(self, run_id: str, *, _marked: bool = False) -> None:
        """Save the run to the run store and end its worker (it comes back on the next checkout)."""
        with self._lock:
            entry = self._live.get(run_id)
            if entry is None or (entry.releasing and not _marked):
                return
            entry.releasing = True
        try:
            unwrap(entry.handle.autosave.remote())  # reports (never raises) a refused save: the worker ends anyway
        except ray.exceptions.RayActorError:
            pass  # already dead: the last autosave is what there is
        finally:
            ray.kill(entry.handle, no_restart=True)
            with self._lock:
                self._live.pop(run_id, None)
                self._lock.notify_all()

    def close(self) -> None:
        """Save every run and end all workers (server shutdown)."""
        self._stop.set()
        for r in self.live_runs():
            self.release(r)

    def shutdown(self) -> None:
        """End every worker at once, without saving (tests; a server that is going away anyway)."""
        self._stop.set()
        for r in self.live_runs():
            self.forget(r)

    def _reap_forever(self) -> None:
        period = max(0.5, min(self.idle_seconds / 4, 30.0))
        while not self._stop.wait(period):
            try:
                self.release_idle()
            except Exception:  # a reaper must outlive one bad save; the run stays live and is retried
                pass

    # ---- readouts ------------------------------------------------------------------------
    def live_runs(self) -> list[str]:
        with self._lock:
            return list(self._live)

    def queue(self) -> list[str]:
        with self._lock:
            self._expire_queue()
            return list(self._queue)

    # ---- internals -----------------------------------------------------------------------
    def _admit(self, owner: str, need: int) -> None:
        """Reserve `need` places for `owner` or raise Busy. First come, first served: only the head of the
        queue (or anyone, when nobody waits) gets free places, so a newcomer cannot overtake a waiter.
        The caller gives the places back (self._reserved) once its workers are live or have failed."""
        for attempt in (0, 1):
            with self._lock:
                self._expire_queue()
                free = self.capacity - len(self._live) - self._reserved
                if need <= free and next(iter(self._queue), owner) == owner:
                    self._queue.pop(owner, None)
                    self._reserved += need
                    return
                if attempt or need <= free:  # still full after releasing idle runs, or a waiter is ahead
                    self._queue[owner] = self.clock()   # an owner already queued keeps its place
                    raise Busy(list(self._queue).index(owner) + 1, self.capacity)
            self.release_idle()

    def _start(self, run_id: str, source: dict, meta: dict | None, in_use: int = 0) -> dict:
        """Start a worker in a place reserved by _admit; returns its info (raises its startup error)."""
        handle = remote_worker().remote(run_id, str(self.store.root), source, meta, self.autosave_seconds,
                                        _extra_cells())
        try:
            info = unwrap(handle.info.remote())
        except BaseException:
            ray.kill(handle, no_restart=True)
            raise
        with self._lock:
            self._live[run_id] = _Entry(handle, self.clock(), in_use=in_use)
        return info

    def _expire_queue(self) -> None:
        cutoff = self.clock() - self.queue_ttl
        for owner in [o for o, t in self._queue.items() if t < cutoff]:
            del self._queue[owner]


def _extra_cells() -> dict:
    """Cells registered in this process beyond rnn_core's own (a new cell defined elsewhere): the worker,
    a fresh process, registers them too."""
    from rnn_core.cells import CELLS

    return {k: v for k, v in CELLS.items() if not v.__module__.startswith("rnn_core.")}


__all__ = ["Busy", "IDLE_SECONDS", "QUEUE_TTL", "WorkerPool"]
