"""What the page shows of one run: a mirror kept in the page server, updated from the worker's ticks.

The page reads mirrors and never waits on a worker to draw (see player.Group).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from rnn_core import TrainConfig
from rnn_core.history import LossHistory

from .workers import Tick


@dataclass
class RunMirror:
    """What the page shows of one run, kept in the page server; updated from ticks, never fetched to draw."""

    run_id: str
    iteration: int
    smooth_loss: float
    config: TrainConfig
    chars: str                       # the vocabulary, in id order
    history: LossHistory
    samples: list
    saved_iteration: int | None
    where: dict                      # node, host and pid of the worker
    view: dict | None = None         # the last snapshot of the chosen look-inside view
    error: str | None = None         # why training stopped, if it diverged
    needs_reset: bool = False
    n_train: int = 0                 # characters the run trains on (epochs = iteration x T x B / n_train)
    validation: dict = field(default_factory=lambda: {"its": [], "loss": []})  # held-out nats/char
    save_error: tuple | None = None  # (kind, reason) of the last refused or failed save (cleared by a good one)
    broken: str | None = None        # why the run cannot be drawn: its worker never saves it again

    @classmethod
    def from_info(cls, info: dict) -> "RunMirror":
        val = info.get("validation") or {"its": [], "loss": []}
        return cls(info["run_id"], info["iteration"], info["smooth_loss"], TrainConfig(**info["config"]),
                   info["chars"], LossHistory.from_state(info["history"]), list(info["samples"]),
                   info["saved_iteration"], info["where"], n_train=int(info.get("n_train", 0)),
                   validation={"its": list(val["its"]), "loss": list(val["loss"])}, broken=info.get("broken"))

    def apply(self, tick: Tick) -> None:
        n = tick.done
        if n and tick.first <= self.iteration:
            return  # already in the mirror: re-read from the worker after a chunk queued behind this one
        if n:
            self.history.extend(np.arange(tick.first, tick.first + n), tick.losses, tick.smooths)
        self.samples.extend(tick.samples)
        self.iteration, self.smooth_loss = tick.iteration, tick.smooth_loss
        if tick.saved_iteration is not None:
            self.saved_iteration, self.save_error = tick.saved_iteration, None
        if tick.save_error is not None:
            self.save_error = tick.save_error
        for it, loss in tick.validation:
            self.validation["its"].append(it)
            self.validation["loss"].append(loss)
        self.error, self.needs_reset = tick.error, tick.needs_reset
        self.broken = tick.broken

    def copy(self) -> "RunMirror":
        twin = copy.copy(self)
        twin.history = LossHistory.from_state(self.history.state())
        twin.samples = list(self.samples)
        twin.validation = {k: list(v) for k, v in self.validation.items()}
        return twin


__all__ = ["RunMirror"]
