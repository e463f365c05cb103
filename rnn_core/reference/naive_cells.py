"""Deliberately naive LSTM and GRU character models, written per time step with one-hot vectors.

The gated counterparts of rnn_core/reference/oracle.py's NaiveRNN: column vectors, dicts of per-step arrays,
a one-hot product for every input, the output layer and every weight-gradient outer product
inside the time loop, clipping inside the loss function, Adagrad. They use the engine's
parameter names and layout (stacked gate blocks, see rnn_core/cells_gated.py) so results can
be compared entry by entry, and the plain σ(x) = 1 / (1 + exp(-x)). They are the reference
the vectorized cells are tested and benchmarked against. Not for production.
"""
from __future__ import annotations

import numpy as np

NAMES = ("Wx", "Wh", "b", "Why", "by")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class _NaiveGated:
    gates = 0  # row blocks in Wx, Wh, b

    def __init__(self, text: str, hidden_size=100, seq_length=25, learning_rate=0.1, clip=5.0, params=None):
        self.chars = sorted(set(text))
        self.ix = {c: i for i, c in enumerate(self.chars)}
        self.data = text
        self.V, self.H, self.T = len(self.chars), hidden_size, seq_length
        self.lr, self.clip = learning_rate, clip
        if params is None:
            params = self.init_params(np.random.default_rng(0))
        # Column-vector copies, as the seed keeps them.
        self.p = {k: np.array(params[k], dtype=float).reshape(params[k].shape[0], -1) for k in NAMES}
        self.mem = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.n = self.pos = 0
        self.state = self.zero_state()
        self.smooth_loss = -np.log(1.0 / self.V) * self.T

    def init_params(self, rng):
        G, H, V = self.gates, self.H, self.V
        return {"Wx": rng.standard_normal((G * H, V)), "Wh": rng.standard_normal((G * H, H)) / np.sqrt(H),
                "b": np.zeros(G * H), "Why": rng.standard_normal((V, H)) * 0.01, "by": np.zeros(V)}

    def one_hot(self, i):
        x = np.zeros((self.V, 1))
        x[i] = 1
        return x

    def output_layer(self, h, target):
        y = self.p["Why"] @ h + self.p["by"]
        e = np.exp(y - np.max(y))
        prob = e / np.sum(e)
        return prob, -np.log(prob[target, 0])

    def output_grad(self, prob, target, h, grads):
        dy = prob.copy()
        dy[target] -= 1
        grads["Why"] += dy @ h.T
        grads["by"] += dy
        return self.p["Why"].T @ dy

    def finish(self, grads, clip):
        if clip and self.clip:
            for g in grads.values():
                np.clip(g, -self.clip, self.clip, out=g)
        return {k: g.reshape(self.p[k].shape[0]) if k in ("b", "by") else g for k, g in grads.items()}

    def train_step(self):
        if self.pos + self.T + 1 >= len(self.data) or self.n == 0:
            self.state = self.zero_state()
            self.pos = 0
        inputs = [self.ix[c] for c in self.data[self.pos : self.pos + self.T]]
        targets = [self.ix[c] for c in self.data[self.pos + 1 : self.pos + self.T + 1]]
        loss, grads, self.state = self.loss_fun(inputs, targets, self.state)
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        for k, param in self.p.items():
            g = grads[k].reshape(param.shape)
            self.mem[k] += g * g
            param += -self.lr * g / np.sqrt(self.mem[k] + 1e-8)
        self.pos += self.T
        self.n += 1
        return loss


class NaiveLSTM(_NaiveGated):
    """Gate blocks [i, f, o, g]; state is the flat [h, c] (2H,)."""

    gates = 4

    def init_params(self, rng):
        p = super().init_params(rng)
        p["b"][self.H : 2 * self.H] = 1.0
        return p

    def zero_state(self):
        return np.zeros(2 * self.H)

    def loss_fun(self, inputs, targets, state, clip=True):
        H = self.H
        Wx, Wh, b = self.p["Wx"], self.p["Wh"], self.p["b"]
        xs, hs, cs, i, f, o, g, ps = {}, {}, {}, {}, {}, {}, {}, {}
        hs[-1] = np.asarray(state[:H], dtype=float).reshape(H, 1).copy()
        cs[-1] = np.asarray(state[H:], dtype=float).reshape(H, 1).copy()
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = self.one_hot(inputs[t])
            a = Wx @ xs[t] + Wh @ hs[t - 1] + b
            i[t] = sigmoid(a[0:H])
            f[t] = sigmoid(a[H : 2 * H])
            o[t] = sigmoid(a[2 * H : 3 * H])
            g[t] = np.tanh(a[3 * H :])
            cs[t] = f[t] * cs[t - 1] + i[t] * g[t]
            hs[t] = o[t] * np.tanh(cs[t])
            ps[t], l = self.output_layer(hs[t], targets[t])
            loss += l
        grads = {k: np.zeros_like(v) for k, v in self.p.items()}
        dhnext, dcnext = np.zeros((H, 1)), np.zeros((H, 1))
        for t in reversed(range(len(inputs))):
            dh = self.output_grad(ps[t], targets[t], hs[t], grads) + dhnext
            tc = np.tanh(cs[t])
            do = dh * tc
            dc = dh * o[t] * (1 - tc * tc) + dcnext
            di, df, dg = dc * g[t], dc * cs[t - 1], dc * i[t]
            da = np.vstack([di * i[t] * (1 - i[t]), df * f[t] * (1 - f[t]),
                            do * o[t] * (1 - o[t]), dg * (1 - g[t] * g[t])])
            grads["Wx"] += da @ xs[t].T
            grads["Wh"] += da @ hs[t - 1].T
            grads["b"] += da
            dhnext = Wh.T @ da
            dcnext = dc * f[t]
        T = len(inputs) - 1
        return loss, self.finish(grads, clip), np.concatenate([hs[T].ravel(), cs[T].ravel()])


class NaiveGRU(_NaiveGated):
    """Gate blocks [z, r, n], reset before the product: n = tanh(Wx_n x + Wh_n (r*h) + b_n)."""

    gates = 3

    def zero_state(self):
        return np.zeros(self.H)

    def loss_fun(self, inputs, targets, state, clip=True):
        H = self.H
        Wx, Wh, b = self.p["Wx"], self.p["Wh"], self.p["b"]
        xs, hs, z, r, n, ps = {}, {}, {}, {}, {}, {}
        hs[-1] = np.asarray(state, dtype=float).reshape(H, 1).copy()
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = self.one_hot(inputs[t])
            ax = Wx @ xs[t] + b
            z[t] = sigmoid(ax[0:H] + Wh[0:H] @ hs[t - 1])
            r[t] = sigmoid(ax[H : 2 * H] + Wh[H : 2 * H] @ hs[t - 1])
            n[t] = np.tanh(ax[2 * H :] + Wh[2 * H :] @ (r[t] * hs[t - 1]))
            hs[t] = (1 - z[t]) * n[t] + z[t] * hs[t - 1]
            ps[t], l = self.output_layer(hs[t], targets[t])
            loss += l
        grads = {k: np.zeros_like(v) for k, v in self.p.items()}
        dhnext = np.zeros((H, 1))
        for t in reversed(range(len(inputs))):
            dh = self.output_grad(ps[t], targets[t], hs[t], grads) + dhnext
            dz = dh * (hs[t - 1] - n[t])
            dn = dh * (1 - z[t])
            dan = dn * (1 - n[t] * n[t])
            drh = Wh[2 * H :].T @ dan
            dr = drh * hs[t - 1]
            daz = dz * z[t] * (1 - z[t])
            dar = dr * r[t] * (1 - r[t])
            grads["Wx"] += np.vstack([daz, dar, dan]) @ xs[t].T
            grads["Wh"][0:H] += daz @ hs[t - 1].T
            grads["Wh"][H : 2 * H] += dar @ hs[t - 1].T
            grads["Wh"][2 * H :] += dan @ (r[t] * hs[t - 1]).T
            grads["b"] += np.vstack([daz, dar, dan])
            dhnext = dh * z[t] + drh * r[t] + Wh[0:H].T @ daz + Wh[H : 2 * H].T @ dar
        return loss, self.finish(grads, clip), hs[len(inputs) - 1].ravel()


NAIVE = {"lstm": NaiveLSTM, "gru": NaiveGRU}
