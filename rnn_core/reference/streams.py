"""B streams trained the slow way: one naive per-time-step model run per stream, then averaged.

The reference the batched engine (TrainConfig.batch_size = B) is tested against. It spells out
what the batch means, stream by stream:
  - the training text (N ids) is cut into B segments of L = N // B characters; stream b reads
    from offset b * L, all streams at the same position p inside their segment;
  - the first iteration, and any iteration whose window would reach p + T + 1 >= L, puts every
    stream back at p = 0 with a zero state (min-char-rnn's rule, with L for N);
  - each stream's loss and gradient come from the naive model on its own window and its own carried
    state; the iteration's loss is the mean over streams, and so is the gradient (the gradient of
    the reported loss); then one clip to [-clip, clip] and one Adagrad update.
With B = 1 this is exactly oracle.NaiveRNN's loop.
"""
from __future__ import annotations

import numpy as np

from .naive_cells import NAIVE, NAMES
from .oracle import NaiveRNN

RNN_NAMES = ("Wxh", "Whh", "bh", "Why", "by")


class NaiveStreams:
    def __init__(self, text: str, cell: str, batch_size: int, hidden_size: int, seq_length: int,
                 learning_rate: float, clip: float | None, params: dict):
        kw = dict(hidden_size=hidden_size, seq_length=seq_length, learning_rate=learning_rate, clip=clip,
                  params=params)
        self.model = NaiveRNN(text, **kw) if cell == "rnn" else NAIVE[cell](text, **kw)
        self.cell, self.B, self.T = cell, batch_size, seq_length
        self.ids = [self.model.ix[c] for c in text]
        self.L = len(self.ids) // batch_size
        self.lr, self.clip = learning_rate, clip
        self.mem = {k: np.zeros_like(v) for k, v in self.params().items()}
        self.n = self.p = 0
        self.states = [self.zero_state() for _ in range(batch_size)]

    def params(self) -> dict[str, np.ndarray]:
        """The live (column-vector shaped) parameter arrays of the naive model, by engine name."""
        m = self.model
        if self.cell == "rnn":
            return {"Wxh": m.Wxh, "Whh": m.Whh, "bh": m.bh, "Why": m.Why, "by": m.by}
        return {k: m.p[k] for k in NAMES}

    def zero_state(self):
        return np.zeros((self.model.H, 1)) if self.cell == "rnn" else self.model.zero_state()

    def _stream(self, b: int, state):
        """Loss, unclipped gradients (by name) and last state of stream b's current window."""
        start = b * self.L + self.p
        inputs = self.ids[start : start + self.T]
        targets = self.ids[start + 1 : start + self.T + 1]
        loss, grads, state = self.model.loss_fun(inputs, targets, state, clip=False)
        if self.cell == "rnn":
            grads = dict(zip(("Wxh", "Whh", "Why", "bh", "by"), grads))
        return loss, grads, state

    def train_step(self) -> float:
        """One iteration over all B streams; returns the mean loss over streams (nats per window)."""
        if self.p + self.T + 1 >= self.L or self.n == 0:
            self.p = 0
            self.states = [self.zero_state() for _ in range(self.B)]
        total, summed = 0.0, {k: np.zeros_like(v) for k, v in self.params().items()}
        for b in range(self.B):
            loss, grads, self.states[b] = self._stream(b, self.states[b])
            total += loss
            for k, g in grads.items():
                summed[k] += g.reshape(summed[k].shape)
        for k, param in self.params().items():
            g = summed[k] / self.B
            if self.clip:
                np.clip(g, -self.clip, self.clip, out=g)
            self.mem[k] += g * g
            param += -self.lr * g / np.sqrt(self.mem[k] + 1e-8)
        self.p += self.T
        self.n += 1
        return total / self.B

    def flat_states(self) -> np.ndarray:
        """(B, state_size) carried states, in the engine's layout."""
        return np.stack([np.ravel(s) for s in self.states])
