"""A training worker: one Ray actor that owns one run's Trainer.

The trainer never leaves the worker. The driver asks it to train a chunk and gets a small Tick
(the new per-iteration losses, new samples, counters), asks for the data of one look-inside view
(worker_views), for a sample, or for the checkpoint bytes. The worker saves itself to the run
store (a folder it is given; on a cluster that folder is a shared volume) on an autosave timer
while training and whenever asked.

    handle = remote_worker().remote(run_id, store_root, {"text": ..., "config": {...}})
    unwrap(handle.info.remote())       # raises the ValueError if the text or settings were bad
    tick = unwrap(handle.step.remote(100))
"""
from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field

import numpy as np
import ray

from rnn_core import DivergenceError, TrainConfig, Trainer
from rnn_core.checkpoint import load_trainer, to_bytes
from rnn_core.runstore import Autosaver, RunStore, RunStoreFull

from .cluster import pin_blas
from .health import why_not_drawable
from .worker_views import snapshot

MAX_CHUNK = 10_000  # iterations per step call: bounds one tick's rows at 160 KB


@dataclass
class Tick:
    """What one chunk of training changed, small enough to send every 0.1 s."""

    first: int                  # iteration number of losses[0]
    losses: np.ndarray          # (n,) raw loss per iteration, nats per window (float64: the mirror's
    smooths: np.ndarray         # (n,) smooth loss after each   history must equal the worker's)
    iteration: int
    smooth_loss: float
    seconds: float              # time the worker spent training (not waiting for the call)
    samples: list = field(default_factory=list)   # [(iteration, text)] recorded during this chunk
    saved_iteration: int | None = None            # the iteration the run store holds, if saved now
    error: str | None = None                      # the divergence message, if training stopped on one
    needs_reset: bool = False
    validation: list = field(default_factory=list)  # [(iteration, held-out nats/char)] measured this chunk
    save_error: tuple | None = None               # (kind, reason) of an autosave refused or failed: training goes on
    broken: str | None = None                     # why the run cannot be drawn: never saved again

    @property
    def resync(self) -> bool:
        """The rows do not cover the chunk (it diverged part-way): re-read the worker's info()."""
        return self.first + len(self.losses) - 1 != self.iteration

    @property
    def done(self) -> int:
        return len(self.losses)


class RunWorker:
    """Owns a Trainer. Construction never raises (an actor that fails to start only says "died"):
    a bad text or setting is kept and raised by every call, starting with info()."""

    def __init__(self, run_id: str, store_root: str, source: dict, meta: dict | None = None,
                 autosave_seconds: float = 5.0, cells: dict | None = None):
        pin_blas(f"training-worker run={run_id} store={store_root}")
        if cells:  # cells the page registered beyond the built-in ones (rnn_core.cells.CELLS is per process)
            from rnn_core.cells import CELLS
            CELLS.update(cells)
        self.run_id, self.meta = run_id, meta
        self.store = RunStore(store_root)
        self.autosaver = Autosaver(autosave_seconds)
        self.cache: dict = {}
        self.validation: dict = {"its": [], "loss": []}   # held-out loss, measured as training goes
        self.saved_iteration: int | None = None
        self.broken: str | None = None    # why the page cannot draw this run: then it is never saved again
        self.startup_error: ValueError | None = None
        try:
            if "text" in source:
                self.trainer = Trainer(source["text"], TrainConfig(**source.get("config", {})))
            elif "checkpoint" in source:
                self.trainer = load_trainer(source["checkpoint"])
            else:  # coming back from the run store
                self.trainer = self.store.load(run_id)
                self.saved_iteration = self.trainer.iteration
                self.autosaver.saved()
        except (ValueError, TypeError) as err:
            self.startup_error = err if isinstance(err, ValueError) else ValueError(str(err))
            return
        if self.saved_iteration is None and self.trainer.iteration > 0:
            self.save()  # a loaded checkpoint is restorable from its first moment on (a run at 0 is rebuilt
                         # from its settings: the pool keeps them until the run's first save)

    def _ok(self) -> Trainer:
        if self.startup_error is not None:
            raise self.startup_error
        return self.trainer

    # ---- what the driver mirrors ---------------------------------------------------------
    def info(self) -> dict:
        """Everything the driver's mirror starts from (the whole loss history: once per start, not per tick)."""
        tr = self._ok()
        return {
            "run_id": self.run_id, "iteration": tr.iteration, "smooth_loss": tr.smooth_loss,
            "config": asdict(tr.config), "chars": "".join(tr.vocab.chars), "history": tr.history.state(),
            "samples": list(tr.samples), "saved_iteration": self.saved_iteration, "where": self.where(),
            "n_train": int(len(tr.data)), "validation": {k: list(v) for k, v in self.validation.items()},
            "broken": self.broken,
        }

    def where(self) -> dict:
        """Which machine and process this worker runs in."""
        ctx = ray.get_runtime_context()
        return {"node_id": ctx.get_node_id(), "host": socket.gethostname(), "pid": os.getpid(),
                "ip": ray.util.get_node_ip_address()}

    def blas(self) -> dict:
        from threadpoolctl import threadpool_info
        return {"threads": [i["num_threads"] for i in threadpool_info()],
                "env": os.environ.get("OPENBLAS_NUM_THREADS")}

    # ---- training ------------------------------------------------------------------------
    def step(self, n: int, autosave: bool = True) -> Tick:
        """Train n iterations (at most MAX_CHUNK). A divergence ends the chunk early and is reported,
        not raised; its tick carries no rows (resync: the driver re-reads info(), as after a restore)."""
        tr = self._ok()
        n = min(int(n), MAX_CHUNK)
        first, smooth0 = tr.iteration + 1, tr.smooth_loss
        error, needs_reset = None, False
        try:
            losses = tr.step(n)                                    # (n,)
        except DivergenceError as err:
            error, needs_reset = str(err), err.needs_reset
            losses = np.empty(0)
        # The same recurrence as the trainer, in the same order, so the driver's history is bit-equal.
        smooths = np.empty(len(losses))
        s = smooth0
        for i, loss in enumerate(losses.tolist()):
            s = smooths[i] = 0.999 * s + 0.001 * loss
        new_samples = [smp for smp in tr.samples if smp[0] >= first]
        saved, save_error = (None, None)
        if autosave and error is None and self.autosaver.due():
            saved, save_error = self.autosave()
        return Tick(first, losses, smooths, tr.iteration, tr.smooth_loss, tr.last_step_seconds,
                    new_samples, saved, error, needs_reset, self._validate(), save_error, self.broken)

    def _validate(self) -> list:
        """Measure the held-out loss when due (a few ms every few hundred iterations); new points."""
        from rnn_core import analysis as A

        from .validation import validation_plan

        tr, rec = self.trainer, self.validation
        if tr.val_data.size < 2:
            return []
        chars, every = validation_plan(tr)
        if not A.validation_due(rec["its"][-1] if rec["its"] else None, tr.iteration, every):
            return []
        loss = float(A.validation_loss(tr.model, tr.val_data, tr.config.seq_length, max_chars=chars))
        rec["its"].append(tr.iteration)
        rec["loss"].append(loss)
        return [(tr.iteration, loss)]

    def apply_live(self, **changes) -> dict:
        tr = self._ok()
        tr.apply_live(**changes)
        return asdict(tr.config)

    # ---- reading the model ---------------------------------------------------------------
    def snapshot(self, request: dict) -> dict:
        return snapshot(self._ok(), request, self.cache)

    def sample(self, *args, **kwargs) -> str:
        return self._ok().sample(*args, **kwargs)

    def probe(self, text: str):
        return self._ok().probe(text)

    # ---- saving --------------------------------------------------------------------------
    def checkpoint(self, compress: bool = True) -> bytes:
        return to_bytes(self._ok(), compress=compress)

    def mark_broken(self, why: str) -> None:
        """The page could not draw this run: keep its last good file (and the link to it) as it is."""
        self.broken = self.broken or str(why)

    def save(self, meta: dict | None = None) -> int | None:
        """Write the run to the run store now; returns the iteration saved (None: a run at iteration 0,
        which is not saved, as the page never saved one: its settings rebuild it).

        A run the page cannot draw (ui/session/health.py, checked here, next to the weights, before every
        save; or marked by the page) is never written: UndrawableRun, and its last good file stays.
        """
        tr = self._ok()
        if meta is not None:
            self.meta = meta
        if tr.iteration == 0:
            return None
        self.broken = self.broken or why_not_drawable(tr)  # sticky: training cannot mend it
        if self.broken:
            raise UndrawableRun(self.broken)
        self.store.save(self.run_id, tr, meta=self.meta)
        self.meta = None  # saved: later saves keep what the sidecar holds
        self.autosaver.saved()
        self.saved_iteration = tr.iteration
        return tr.iteration

    def autosave(self, meta: dict | None = None) -> tuple:
        """save(), but a refused or failed write is reported, not raised: (iteration saved or None, None or
        (kind, reason)) with kind "broken" (the run cannot be drawn), "full" (the shared folder is at its
        quota) or "io" (disk full, read-only folder...). The timer restarts either way, so a full disk is
        not hammered on every chunk."""
        try:
            return self.save(meta), None
        except UndrawableRun as err:
            return None, ("broken", str(err))
        except RunStoreFull as err:
            self.autosaver.saved()
            return None, ("full", str(err))
        except (OSError, ValueError) as err:
            self.autosaver.saved()
            return None, ("io", getattr(err, "strerror", None) or str(err))


class UndrawableRun(ValueError):
    """The worker will not save a run the page cannot draw."""


def remote_worker(**options):
    """The actor class with Ray options. SPREAD puts a group's runs on different nodes of a cluster;
    no restarts: a dead worker is brought back by the driver from the run store, which it can report."""
    return ray.remote(RunWorker).options(scheduling_strategy="SPREAD", max_restarts=0, **options)


__all__ = ["MAX_CHUNK", "RunWorker", "Tick", "UndrawableRun", "remote_worker"]
