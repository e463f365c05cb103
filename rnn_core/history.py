"""Loss history with bounded memory.

Every iteration appends (iteration, raw loss, smooth loss). Up to `cap` points
are kept at full resolution; when the buffer fills, it is compacted by merging
neighbouring pairs (mean raw loss, last smooth loss, last iteration), so a run of
any length costs at most `cap` rows: 3 * 8 bytes * cap.
"""
from __future__ import annotations

import numpy as np


class LossHistory:
    def __init__(self, cap: int = 100_000):
        if cap < 4 or cap % 2:
            raise ValueError("History cap must be an even number >= 4.")
        self.cap = cap
        self._it = np.zeros(cap, dtype=np.int64)
        self._loss = np.zeros(cap)
        self._smooth = np.zeros(cap)
        self._n = 0
        self.compactions = 0  # each one halves the resolution of everything stored so far

    def __len__(self) -> int:
        return self._n

    @property
    def iterations(self) -> np.ndarray:
        return self._it[: self._n]

    @property
    def loss(self) -> np.ndarray:
        return self._loss[: self._n]

    @property
    def smooth(self) -> np.ndarray:
        return self._smooth[: self._n]

    @property
    def nbytes(self) -> int:
        return self._it.nbytes + self._loss.nbytes + self._smooth.nbytes

    def extend(self, iterations: np.ndarray, loss: np.ndarray, smooth: np.ndarray) -> None:
        i = 0
        while i < len(loss):
            if self._n == self.cap:
                self._compact()
            take = min(len(loss) - i, self.cap - self._n)
            sl = slice(self._n, self._n + take)
            self._it[sl] = iterations[i : i + take]
            self._loss[sl] = loss[i : i + take]
            self._smooth[sl] = smooth[i : i + take]
            self._n += take
            i += take

    def _compact(self) -> None:
        half = self._n // 2
        self._it[:half] = self._it[1 : self._n : 2]
        self._loss[:half] = 0.5 * (self._loss[0 : self._n : 2] + self._loss[1 : self._n : 2])
        self._smooth[:half] = self._smooth[1 : self._n : 2]
        self._n = half
        self.compactions += 1

    def state(self) -> dict[str, np.ndarray]:
        return {
            "history_it": self.iterations.copy(),
            "history_loss": self.loss.copy(),
            "history_smooth": self.smooth.copy(),
            "history_meta": np.array([self.cap, self.compactions], dtype=np.int64),
        }

    @classmethod
    def from_state(cls, d) -> "LossHistory":
        cap, compactions = (int(x) for x in d["history_meta"])
        h = cls(cap)
        n = len(d["history_it"])
        if not (len(d["history_loss"]) == len(d["history_smooth"]) == n) or n > cap:
            raise ValueError("The history arrays in the checkpoint do not fit together.")
        h.extend(d["history_it"], d["history_loss"], d["history_smooth"])
        h.compactions = compactions
        return h
