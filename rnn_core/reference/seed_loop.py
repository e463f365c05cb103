"""min-char-rnn's own training loop, transcribed operation for operation: the speed baseline.

This is the program a learner compares the engine with, so it does what that program does and
nothing cleverer: column vectors of shape (n, 1); a fresh one-hot vector per input character;
dicts of per-time-step arrays; `np.dot` for every product, the output layer and the weight
gradients inside the time loops; the softmax as exp(y) / sum(exp(y)) (two exps, no shift);
the characters of each window turned into ids through a dict on every iteration; clipping of
each gradient to [-5, 5]; Adagrad on each of the five parameters; the smoothed loss.

Two deliberate differences from the original, neither of which changes the work per iteration:
the vocabulary is sorted (the original's set order changes between runs) and initial parameters
may be passed in, so a test can check that this loop and the engine compute the same thing.
The occasional progress print is left out (I/O is not what is being measured).
"""
from __future__ import annotations

import numpy as np


class SeedLoop:
    def __init__(self, text: str, hidden_size: int = 100, seq_length: int = 25,
                 learning_rate: float = 0.1, params: dict | None = None):
        chars = sorted(set(text))
        self.data = text
        self.char_to_ix = {ch: i for i, ch in enumerate(chars)}
        self.V, self.H, self.T = len(chars), hidden_size, seq_length
        self.learning_rate = learning_rate
        if params is None:
            rng = np.random.default_rng(0)
            params = {"Wxh": rng.standard_normal((self.H, self.V)) * 0.01,
                      "Whh": rng.standard_normal((self.H, self.H)) * 0.01,
                      "Why": rng.standard_normal((self.V, self.H)) * 0.01,
                      "bh": np.zeros(self.H), "by": np.zeros(self.V)}
        self.Wxh = np.array(params["Wxh"], dtype=float)
        self.Whh = np.array(params["Whh"], dtype=float)
        self.Why = np.array(params["Why"], dtype=float)
        self.bh = np.array(params["bh"], dtype=float).reshape(-1, 1)
        self.by = np.array(params["by"], dtype=float).reshape(-1, 1)
        self.mWxh, self.mWhh, self.mWhy = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.Why)
        self.mbh, self.mby = np.zeros_like(self.bh), np.zeros_like(self.by)
        self.smooth_loss = -np.log(1.0 / self.V) * self.T
        self.n = self.p = 0
        self.hprev = np.zeros((self.H, 1))

    def loss_fun(self, inputs, targets, hprev):
        """Forward and backward over one window, then clip. Returns loss, five gradients, last h."""
        Wxh, Whh, Why, bh, by = self.Wxh, self.Whh, self.Why, self.bh, self.by
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((self.V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    def step(self, n: int = 1) -> float:
        """n iterations of the loop body; returns the last window's loss (nats)."""
        T = self.T
        for _ in range(n):
            if self.p + T + 1 >= len(self.data) or self.n == 0:
                self.hprev = np.zeros((self.H, 1))
                self.p = 0
            inputs = [self.char_to_ix[ch] for ch in self.data[self.p:self.p + T]]
            targets = [self.char_to_ix[ch] for ch in self.data[self.p + 1:self.p + T + 1]]
            loss, dWxh, dWhh, dWhy, dbh, dby, self.hprev = self.loss_fun(inputs, targets, self.hprev)
            self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
            for param, dparam, mem in zip([self.Wxh, self.Whh, self.Why, self.bh, self.by],
                                          [dWxh, dWhh, dWhy, dbh, dby],
                                          [self.mWxh, self.mWhh, self.mWhy, self.mbh, self.mby]):
                mem += dparam * dparam
                param += -self.learning_rate * dparam / np.sqrt(mem + 1e-8)
            self.p += T
            self.n += 1
        return loss
