"""A run in a worker, seen through a Trainer-shaped window (for st.session_state["trainer"], tests, tools).

Readouts (iteration, config, vocab, smooth_loss, history, samples) come from the group's driver-side
mirror, with no worker call; sample(), probe() and apply_live() are sent to the worker. Training goes
through the Group (Play, Pause, Train N), never through here.
"""
from __future__ import annotations

import math

from rnn_core import Vocab

from .player import Group


class RunProxy:
    def __init__(self, group: Group, index: int = 0):
        self.group, self.index = group, index
        self.run_id = group.run_ids[index]

    @property
    def _mirror(self):
        return self.group.mirrors[self.run_id]

    @property
    def iteration(self) -> int:
        return self._mirror.iteration

    @property
    def smooth_loss(self) -> float:
        return self._mirror.smooth_loss

    @property
    def config(self):
        return self._mirror.config

    @property
    def vocab(self) -> Vocab:
        return Vocab.from_chars(self._mirror.chars)

    @property
    def history(self):
        return self._mirror.history

    @property
    def samples(self) -> list:
        return self._mirror.samples

    @property
    def bits_per_char(self) -> float:
        return self.smooth_loss / self.config.seq_length / math.log(2)

    def sample(self, *args, **kwargs) -> str:
        return self.group.call(self.index, "sample", *args, **kwargs)

    def probe(self, text: str):
        return self.group.call(self.index, "probe", text)

    def apply_live(self, **changes) -> None:
        """Learning rate, optimizer or clip, changed in the worker (between chunks) and then in the mirror."""
        from rnn_core import TrainConfig

        config = self.group.call(self.index, "apply_live", **changes)
        with self.group._lock:
            self._mirror.config = TrainConfig(**config)


__all__ = ["RunProxy"]
