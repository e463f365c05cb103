"""Loss history with bounded memory.

Every iteration appends (iteration, raw loss, smooth loss). Up to `cap` rows are
kept; when the buffer is full, neighbouring rows are merged in pairs and the
*stride* (raw iterations per row) doubles, so every row covers the same number
of iterations and the whole run is always shown at one, uniform resolution:
    row = (last iteration of its span, mean raw loss over the span, last smooth loss)
New iterations are grouped `stride` at a time; a group still filling is shown as
the last row (so the latest iteration is always visible). A run of any length
costs at most `cap` rows: 3 * 8 bytes * cap.

(Merging pairs while appending new iterations one per row, as an earlier version
did, halves the old part again at every compaction: the run's start ended up in
a single row plotted near its end.)
"""
from __future__ import annotations

import numpy as np

from . import limits


class LossHistory:
    def __init__(self, cap: int = 100_000):
        if not isinstance(cap, (int, np.integer)) or isinstance(cap, bool) or cap < 4 or cap % 2 \
                or cap > limits.MAX_HISTORY_ROWS:
            raise ValueError(f"History cap must be an even number from 4 to {limits.MAX_HISTORY_ROWS:,}, not {cap!r}.")
        self.cap = cap
        self._it = np.zeros(cap, dtype=np.int64)
        self._loss = np.zeros(cap)
        self._smooth = np.zeros(cap)
        self._n = 0          # complete rows (each covers `stride` iterations)
        self._open = 0       # iterations in the open row at index _n (0 <= _open < stride)
        self._open_sum = 0.0  # their raw losses, summed in order
        self.compactions = 0  # each one halves the resolution of everything stored so far

    @property
    def stride(self) -> int:
        return 2**self.compactions

    def __len__(self) -> int:
        return self._n + (self._open > 0)

    @property
    def iterations(self) -> np.ndarray:
        return self._it[: len(self)]

    @property
    def loss(self) -> np.ndarray:
        return self._loss[: len(self)]

    @property
    def smooth(self) -> np.ndarray:
        return self._smooth[: len(self)]

    @property
    def nbytes(self) -> int:
        return self._it.nbytes + self._loss.nbytes + self._smooth.nbytes

    def extend(self, iterations: np.ndarray, loss: np.ndarray, smooth: np.ndarray) -> None:
        iterations, loss, smooth = np.asarray(iterations), np.asarray(loss, dtype=float), np.asarray(smooth, dtype=float)
        i, n = 0, len(loss)
        while i < n:
            if self._open == 0 and self._n == self.cap:
                self._compact()
            s, r = self.stride, self._n
            if self._open == 0 and s == 1:
                # Full resolution: whole slices at once (the only case before the first compaction).
                take = min(n - i, self.cap - r)
                self._it[r : r + take] = iterations[i : i + take]
                self._loss[r : r + take] = loss[i : i + take]
                self._smooth[r : r + take] = smooth[i : i + take]
                self._n += take
                i += take
                continue
            # Fill the open row (or start one); a running sum in order keeps it independent of chunking.
            take = min(n - i, s - self._open)
            self._open_sum = float(np.cumsum(np.concatenate([[self._open_sum], loss[i : i + take]]))[-1])
            self._open += take
            self._it[r] = iterations[i + take - 1]
            self._loss[r] = self._open_sum / self._open
            self._smooth[r] = smooth[i + take - 1]
            i += take
            if self._open == s:
                self._n += 1
                self._open, self._open_sum = 0, 0.0

    def _compact(self) -> None:
        """Merge complete rows in pairs (all cover `stride` iterations, so a pair's mean is exact)."""
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
            "history_meta": np.array([self.cap, self.compactions, self._open], dtype=np.int64),
            "history_open_sum": np.array(self._open_sum),
        }

    @classmethod
    def from_state(cls, d) -> "LossHistory":
        meta = [int(x) for x in np.asarray(d["history_meta"]).ravel()]
        if len(meta) not in (2, 3):
            raise ValueError("The history bookkeeping in the checkpoint is damaged.")
        cap, compactions, open_ = (meta + [0])[:3]
        h = cls(cap)
        its, loss, smooth = (np.asarray(d[k]) for k in ("history_it", "history_loss", "history_smooth"))
        n = len(its)
        if not (len(loss) == len(smooth) == n) or n > cap or its.ndim != 1:
            raise ValueError("The history arrays in the checkpoint do not fit together.")
        if not 0 <= compactions < 63 or not 0 <= open_ < 2**compactions or (open_ and n == 0):
            raise ValueError("The history bookkeeping in the checkpoint is damaged.")
        h._it[:n], h._loss[:n], h._smooth[:n] = its, loss, smooth
        h.compactions = compactions
        h._n = n - (open_ > 0)
        h._open = open_
        h._open_sum = float(d["history_open_sum"]) if "history_open_sum" in d else float(loss[-1]) * open_ if open_ else 0.0
        return h
