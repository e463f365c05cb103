"""A deliberately naive min-char-rnn, written per time step with one-hot vectors.

It follows the seed notebook's algorithm line by line (column vectors, dicts of
per-step arrays, clipping inside the loss function, Adagrad) and serves as the
reference the fast engine is tested and benchmarked against. Not for production.
"""
from __future__ import annotations

import numpy as np


class NaiveRNN:
    def __init__(self, text: str, hidden_size=100, seq_length=25, learning_rate=0.1, clip=5.0, params=None):
        self.chars = sorted(set(text))
        self.ix = {c: i for i, c in enumerate(self.chars)}
        self.data = text
        self.V, self.H, self.T = len(self.chars), hidden_size, seq_length
        self.lr, self.clip = learning_rate, clip
        if params is None:
            rng = np.random.default_rng(0)
            params = {
                "Wxh": rng.standard_normal((self.H, self.V)) * 0.01,
                "Whh": rng.standard_normal((self.H, self.H)) * 0.01,
                "Why": rng.standard_normal((self.V, self.H)) * 0.01,
                "bh": np.zeros(self.H), "by": np.zeros(self.V),
            }
        # Column-vector copies, as the seed keeps them.
        self.Wxh, self.Whh, self.Why = (params[k].copy() for k in ("Wxh", "Whh", "Why"))
        self.bh, self.by = params["bh"].reshape(-1, 1).copy(), params["by"].reshape(-1, 1).copy()
        self.mem = [np.zeros_like(w) for w in (self.Wxh, self.Whh, self.Why, self.bh, self.by)]
        self.n = self.p = 0
        self.hprev = np.zeros((self.H, 1))
        self.smooth_loss = -np.log(1.0 / self.V) * self.T

    def one_hot(self, i):
        x = np.zeros((self.V, 1))
        x[i] = 1
        return x

    def loss_fun(self, inputs, targets, hprev, clip=True):
        xs, hs, ps = {}, {-1: hprev.copy()}, {}
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = self.one_hot(inputs[t])
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            y = self.Why @ hs[t] + self.by
            e = np.exp(y - np.max(y))
            ps[t] = e / np.sum(e)
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.Why)
        dbh, dby = np.zeros_like(self.bh), np.zeros_like(self.by)
        dhnext = np.zeros((self.H, 1))
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = self.Why.T @ dy + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = self.Whh.T @ dhraw
        grads = [dWxh, dWhh, dWhy, dbh, dby]
        if clip and self.clip:
            for g in grads:
                np.clip(g, -self.clip, self.clip, out=g)
        return loss, grads, hs[len(inputs) - 1]

    def train_step(self):
        if self.p + self.T + 1 >= len(self.data) or self.n == 0:
            self.hprev = np.zeros((self.H, 1))
            self.p = 0
        inputs = [self.ix[c] for c in self.data[self.p : self.p + self.T]]
        targets = [self.ix[c] for c in self.data[self.p + 1 : self.p + self.T + 1]]
        loss, grads, self.hprev = self.loss_fun(inputs, targets, self.hprev)
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        for param, dparam, mem in zip((self.Wxh, self.Whh, self.Why, self.bh, self.by), grads, self.mem):
            mem += dparam * dparam
            param += -self.lr * dparam / np.sqrt(mem + 1e-8)
        self.p += self.T
        self.n += 1
        return loss

    def sample(self, seed_char, n, rng):
        h = np.zeros((self.H, 1))
        x = self.one_hot(self.ix[seed_char])
        out = []
        for _ in range(n):
            h = np.tanh(self.Wxh @ x + self.Whh @ h + self.bh)
            y = self.Why @ h + self.by
            e = np.exp(y - np.max(y))
            p = e / np.sum(e)
            i = rng.choice(range(self.V), p=p.ravel())
            x = self.one_hot(i)
            out.append(i)
        return "".join(self.chars[i] for i in out)
