"""Gated recurrent cells: LSTM and GRU, in the same vectorized style as the vanilla RNNCell.

They keep the cell contract documented in `rnn_core.cells`. Shapes: T steps, H hidden units,
V vocabulary size; x_t is the one-hot input, so `W x_t` is column x_t of W (no product).
σ is the logistic sigmoid.

LSTM (seed 003's equations: Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000)
    i_t = σ(Wx_i x_t + Wh_i h_{t-1} + b_i)        input gate
    f_t = σ(Wx_f x_t + Wh_f h_{t-1} + b_f)        forget gate
    o_t = σ(Wx_o x_t + Wh_o h_{t-1} + b_o)        output gate
    g_t = tanh(Wx_g x_t + Wh_g h_{t-1} + b_g)     candidate
    c_t = f_t * c_{t-1} + i_t * g_t               cell state
    h_t = o_t * tanh(c_t)
  Parameters, stacked so one (4H, H) product per step feeds all four gates;
  row blocks of H in the order [i, f, o, g]:
    Wx (4H, V)   input -> gates      Wx[0:H] = Wx_i, Wx[H:2H] = Wx_f, Wx[2H:3H] = Wx_o, Wx[3H:4H] = Wx_g
    Wh (4H, H)   hidden -> gates     same row blocks
    b  (4H,)     gate biases         b[H:2H] (forget) starts at 1, so the cell remembers by default
  State: [h, c], length 2H.

GRU (Cho et al. 2014: the reset gate multiplies h_{t-1} BEFORE the recurrent product Wh_n)
    z_t = σ(Wx_z x_t + Wh_z h_{t-1} + b_z)        update gate
    r_t = σ(Wx_r x_t + Wh_r h_{t-1} + b_r)        reset gate
    n_t = tanh(Wx_n x_t + Wh_n (r_t * h_{t-1}) + b_n)   candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}
  (cuDNN/PyTorch instead use r_t * (Wh_n h_{t-1} + b_hn); the two are different models.)
  Parameters, row blocks of H in the order [z, r, n]:
    Wx (3H, V)   input -> gates
    Wh (3H, H)   hidden -> gates; Wh[0:2H] multiplies h_{t-1}, Wh[2H:3H] multiplies r_t * h_{t-1}
    b  (3H,)
  State: h, length H.

Initialisation (not min-char-rnn's 0.01 for these cells; measured, see below):
    Wx ~ N(0, 1)       a column of Wx is a character's embedding; unit scale, like nn.Embedding
    Wh ~ N(0, 1/H)     variance 1/fan-in, so Wh h_{t-1} starts at most at the scale of the input term
    b  = 0, except the LSTM forget-gate block b[H:2H] = 1
  With 0.01 weights every gate starts near σ(its bias) whatever the input and the candidate near 0,
  and the gated cells learn slowly. Measured on 4-type bracket matching across 10-20 random filler
  letters: with 0.01 weights the LSTM never learned which closer comes (H=32 and 64, T=25 and 50,
  Adagrad 0.1 or Adam, up to 5,000 iterations, seeds 0-5); with this init it did on all 8 seeds
  tried (H=64, T=50, Adagrad 0.1, 3,000 iterations; tests/test_cells_gated.py). On the built-in prose (H=100, T=25, mean loss of
  iterations 2,750-3,000) this init reached 0.99 vs 1.28 nats/char (LSTM), 0.85 vs 1.21 (GRU).

Speed notes (why the code looks the way it does):
- σ(x) = (1 + tanh(x/2)) / 2: the sigmoid rows of the input term are halved once per window and
  those of Wh h_{t-1} once per step, so each step runs one tanh over all gate blocks, and it
  never overflows (1 / (1 + exp(-x)) warns for x < -709).
- Everything that does not depend on the recurrence (gate derivatives, weight gradients) is
  computed for all T steps at once; the backward loop only carries dL/dh (and dL/dc).
"""
from __future__ import annotations

import numpy as np

from .cell_views import HIDDEN, View
from .onehot import scatter_columns


def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5


class LSTMCell:
    name = "lstm"
    param_names = ("Wx", "Wh", "b")
    label = "LSTM: gated, with a cell state"
    help = ("a separate cell state c with input, forget and output gates deciding what to write, keep and show; "
            "remembers longer, about 4x the recurrent weights, slower per iteration.")
    equation = "c = f⊙c_prev + i⊙g,  h = o⊙tanh(c)   (gates i, f, o, g from Wx·x + Wh·h_prev + b)"
    views = {
        HIDDEN: View("hidden state h", "h = o · tanh(c): what the output layer reads", "tanh"),
        "cell": View("cell state c", "the long-term memory: f keeps part of the old c, i writes part of the "
                                     "candidate g", "unbounded"),
        "input gate": View("input gate i", "how much of the candidate g is written into the cell state", "gate"),
        "forget gate": View("forget gate f", "how much of the old cell state is kept (its bias starts at 1, so "
                                             "the cell remembers by default)", "gate"),
        "output gate": View("output gate o", "how much of tanh(c) shows in h", "gate"),
        "candidate": View("candidate g", "the new content proposed at each step", "tanh"),
    }
    GATES = ("i", "f", "o", "g")  # row-block order in Wx, Wh, b

    @staticmethod
    def state_size(H: int) -> int:
        return 2 * H

    def init_params(self, rng: np.random.Generator, V: int, H: int) -> dict[str, np.ndarray]:
        b = np.zeros(4 * H)
        b[H : 2 * H] = 1.0  # forget gate open: c_{t-1} flows on until the cell learns to drop it
        return {
            "Wx": rng.standard_normal((4 * H, V)),                 # (4H, V) input -> [i, f, o, g]
            "Wh": rng.standard_normal((4 * H, H)) / np.sqrt(H),    # (4H, H) hidden -> [i, f, o, g]
            "b": b,                                                # (4H,)
        }

    @staticmethod
    def _scale(H: int) -> np.ndarray:
        s = np.full(4 * H, 0.5)   # sigmoid rows i, f, o go through tanh(x/2)
        s[3 * H :] = 1.0          # candidate row g through tanh(x)
        return s

    def forward(self, p: dict, inputs: np.ndarray, state0: np.ndarray):
        """inputs (T, B), state0 (B, 2H). Returns (hs (T, B, H), cache, last state (B, 2H) = [h_T, c_T])."""
        Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
        T, B = inputs.shape
        H = Wh.shape[1]
        s = self._scale(H)
        acts = np.add(Wx.T[inputs], b)                   # (T, B, 4H) input term; gates [i, f, o, g] after the loop
        acts *= s
        hs = np.empty((T + 1, B, H))                     # hs[0] = h_{-1}
        cs = np.empty((T + 1, B, H))                     # cs[0] = c_{-1}
        tcs = np.empty((T, B, H))                        # tanh(c_t)
        hs[0], cs[0] = state0[:, :H], state0[:, H:]
        buf, ig = np.empty((B, 4 * H)), np.empty((B, H))
        WhT = Wh.T
        dot, tanh, mul = np.dot, np.tanh, np.multiply
        H2, H3 = 2 * H, 3 * H
        for t in range(T):
            a = acts[t]
            dot(hs[t], WhT, out=buf)
            buf *= s                                     # cheaper than a scaled copy of Wh per window
            a += buf
            tanh(a, out=a)
            sg = a[:, :H3]
            sg *= 0.5
            sg += 0.5                                    # i, f, o = σ(pre)
            c = cs[t + 1]
            mul(a[:, H:H2], cs[t], out=c)               # f * c_{t-1}
            c += mul(a[:, :H], a[:, H3:], out=ig)       # + i * g
            mul(a[:, H2:H3], tanh(c, out=tcs[t]), out=hs[t + 1])
        last = np.concatenate([hs[T], cs[T]], axis=1)
        return hs[1:], (inputs, hs, cs, tcs, acts), last

    def backward(self, p: dict, cache, dhs: np.ndarray, out: dict) -> None:
        """dhs (T, B, H) = dL/dh_t from the output layer; on return the total dL/dh_t. Grads into `out`."""
        inputs, hs, cs, tcs, acts = cache
        Wh = p["Wh"]
        T, B = inputs.shape
        H = Wh.shape[1]
        dhs = dhs.reshape(T, B, H)                       # a view: (T, H) callers with B = 1 see the totals
        i, f, o, g = (acts[..., k * H : (k + 1) * H] for k in range(4))   # each (T, B, H)
        # Local derivatives, all steps at once: dpre = (dL/dc or dL/dh) * k.
        k_if = np.empty((T, B, 2, H))
        np.multiply(g * i, 1.0 - i, out=k_if[:, :, 0])       # dpre_i / dc
        np.multiply(cs[:-1] * f, 1.0 - f, out=k_if[:, :, 1]) # dpre_f / dc
        k_o = tcs * o * (1.0 - o)                            # dpre_o / dh
        k_g = i * (1.0 - g * g)                              # dpre_g / dc
        k_c = o * (1.0 - tcs * tcs)                          # dc_t / dh_t
        da = np.empty((T, B, 4 * H))                         # dL/d(pre-activation), [i, f, o, g]
        da4 = da.reshape(T, B, 4, H)
        dhn, dcn, dc = np.zeros((B, H)), np.zeros((B, H)), np.empty((B, H))
        dc2 = dc[:, None, :]                                 # (B, 1, H) view, broadcast over i and f
        dot, mul = np.dot, np.multiply
        for t in range(T - 1, -1, -1):
            dh = dhs[t]
            dh += dhn                                        # from the output, plus from step t+1
            mul(dh, k_c[t], out=dc)
            dc += dcn                                        # dL/dc_t
            d = da4[t]
            mul(k_if[t], dc2, out=d[:, :2])
            mul(k_o[t], dh, out=d[:, 2])
            mul(k_g[t], dc, out=d[:, 3])
            mul(dc, f[t], out=dcn)                           # dL/dc_{t-1}
            dot(da[t], Wh, out=dhn)                          # Wh.T @ da_t = dL/dh_{t-1} (recurrent part)
        flat = da.reshape(T * B, 4 * H)
        scatter_columns(flat, inputs.reshape(-1), out["Wx"])
        np.dot(flat.T, hs[:-1].reshape(T * B, H), out=out["Wh"])
        flat.sum(axis=0, out=out["b"])

    def step(self, p: dict, ix: int, state: np.ndarray):
        """One character (sampling). state = [h, c]; returns (new state, h)."""
        H = p["Wh"].shape[1]
        pre = p["Wx"][:, ix] + p["Wh"] @ state[:H] + p["b"]
        i, f, o = _sigmoid(pre[: 3 * H]).reshape(3, H)
        g = np.tanh(pre[3 * H :])
        c = f * state[H:] + i * g
        h = o * np.tanh(c)
        return np.concatenate([h, c]), h

    def probe_extras(self, cache) -> dict[str, np.ndarray]:
        """Cell state and gate activations per position of the first stream, each (T, H)."""
        _, _, cs, _, acts = cache
        H = cs.shape[-1]
        gate = lambda k: acts[:, 0, k * H : (k + 1) * H].copy()  # noqa: E731
        return {"cell": cs[1:, 0].copy(), "input gate": gate(0), "forget gate": gate(1),
                "output gate": gate(2), "candidate": gate(3)}


class GRUCell:
    name = "gru"
    param_names = ("Wx", "Wh", "b")
    label = "GRU: gated, lighter than LSTM"
    help = "update and reset gates on a single state; 3x the weights, between the two."
    equation = "h = (1 − z)⊙n + z⊙h_prev,  n = tanh(Wx_n·x + Wh_n·(r⊙h_prev) + b_n)"
    views = {
        HIDDEN: View("hidden state h", "h = (1 − z) · n + z · h_prev: what the output layer reads", "tanh"),
        "update gate": View("update gate z", "how much of the old h is kept (1) instead of the candidate (0)", "gate"),
        "reset gate": View("reset gate r", "how much of the old h the candidate gets to see", "gate"),
        "candidate": View("candidate n", "the new state proposed at each step", "tanh"),
    }
    GATES = ("z", "r", "n")  # row-block order in Wx, Wh, b

    @staticmethod
    def state_size(H: int) -> int:
        return H

    def init_params(self, rng: np.random.Generator, V: int, H: int) -> dict[str, np.ndarray]:
        return {
            "Wx": rng.standard_normal((3 * H, V)),                 # (3H, V) input -> [z, r, n]
            "Wh": rng.standard_normal((3 * H, H)) / np.sqrt(H),    # (3H, H) hidden -> [z, r]; (r*h) -> n
            "b": np.zeros(3 * H),                                  # (3H,)
        }

    def forward(self, p: dict, inputs: np.ndarray, state0: np.ndarray):
        """inputs (T, B), state0 (B, H). Returns (hs (T, B, H), cache for backward, last state h_T (B, H))."""
        Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
        T, B = inputs.shape
        H = Wh.shape[1]
        H2 = 2 * H
        acts = np.add(Wx.T[inputs], b)                   # (T, B, 3H) input term; [z, r, n] after the loop
        acts[..., :H2] *= 0.5                            # z, r: σ via tanh(x/2)
        WzrT, WnT = Wh[:H2].T, Wh[H2:].T                 # (H, 2H), (H, H)
        hs = np.empty((T + 1, B, H))                     # hs[0] = h_{-1}
        rh = np.empty((T, B, H))                         # r_t * h_{t-1}
        hmn = np.empty((T, B, H))                        # h_{t-1} - n_t
        buf, tmp = np.empty((B, H2)), np.empty((B, H))
        hs[0] = state0
        dot, tanh, mul, add = np.dot, np.tanh, np.multiply, np.add
        for t in range(T):
            a, h = acts[t], hs[t]
            zr, n = a[:, :H2], a[:, H2:]
            dot(h, WzrT, out=buf)
            buf *= 0.5
            zr += buf
            tanh(zr, out=zr)
            zr *= 0.5
            zr += 0.5                                    # z, r = σ(pre)
            mul(a[:, H:H2], h, out=rh[t])
            n += dot(rh[t], WnT, out=tmp)
            tanh(n, out=n)
            d = np.subtract(h, n, out=hmn[t])
            add(n, mul(a[:, :H], d, out=tmp), out=hs[t + 1])   # n + z * (h - n)
        return hs[1:], (inputs, hs, acts, rh, hmn), hs[T].copy()

    def backward(self, p: dict, cache, dhs: np.ndarray, out: dict) -> None:
        """dhs (T, B, H) = dL/dh_t from the output layer; on return the total dL/dh_t. Grads into `out`."""
        inputs, hs, acts, rh, hmn = cache
        Wh = p["Wh"]
        T, B = inputs.shape
        H = Wh.shape[1]
        H2 = 2 * H
        dhs = dhs.reshape(T, B, H)                       # a view: (T, H) callers with B = 1 see the totals
        z, r, n = (acts[..., k * H : (k + 1) * H] for k in range(3))    # each (T, B, H)
        k_z = hmn * z * (1.0 - z)                            # dpre_z / dh
        k_n = (1.0 - z) * (1.0 - n * n)                      # dpre_n / dh
        k_r = hs[:-1] * r * (1.0 - r)                        # dpre_r / d(r*h)
        Wzr, Wn = Wh[:H2], Wh[H2:]
        da = np.empty((T, B, 3 * H))                         # dL/d(pre-activation), [z, r, n]
        drh = np.empty((T, B, H))                            # dL/d(r_t * h_{t-1})
        dhn, tmp = np.zeros((B, H)), np.empty((B, H))
        dot, mul = np.dot, np.multiply
        for t in range(T - 1, -1, -1):
            dh = dhs[t]
            dh += dhn                                        # from the output, plus from step t+1
            d, e = da[t], drh[t]
            mul(k_z[t], dh, out=d[:, :H])
            dn = mul(k_n[t], dh, out=d[:, H2:])
            dot(dn, Wn, out=e)
            mul(k_r[t], e, out=d[:, H:H2])
            dot(d[:, :H2], Wzr, out=dhn)                     # through the gates
            dhn += mul(dh, z[t], out=tmp)                    # through z * h_{t-1}
            dhn += mul(e, r[t], out=tmp)                     # through r * h_{t-1}
        flat = da.reshape(T * B, 3 * H)
        scatter_columns(flat, inputs.reshape(-1), out["Wx"])
        gWh = out["Wh"]
        np.dot(flat[:, :H2].T, hs[:-1].reshape(T * B, H), out=gWh[:H2])
        np.dot(flat[:, H2:].T, rh.reshape(T * B, H), out=gWh[H2:])
        flat.sum(axis=0, out=out["b"])

    def step(self, p: dict, ix: int, state: np.ndarray):
        """One character (sampling). Returns (new state, h); the state is h."""
        Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
        H = Wh.shape[1]
        xw = Wx[:, ix] + b
        z, r = _sigmoid(xw[: 2 * H] + Wh[: 2 * H] @ state).reshape(2, H)
        n = np.tanh(xw[2 * H :] + Wh[2 * H :] @ (r * state))
        h = (1.0 - z) * n + z * state
        return h, h

    def probe_extras(self, cache) -> dict[str, np.ndarray]:
        """Gate activations per position of the first stream, each (T, H)."""
        _, _, acts, _, _ = cache
        H = acts.shape[-1] // 3
        gate = lambda k: acts[:, 0, k * H : (k + 1) * H].copy()  # noqa: E731
        return {"update gate": gate(0), "reset gate": gate(1), "candidate": gate(2)}
