"""Recurrent cells: the part of the network that carries a state through time.

A cell owns its recurrent parameters and knows how to run a whole window forward
and backward. Everything around it (input lookup is the cell's, output layer and
softmax are the model's) is batched over time; only the recurrence itself is a
Python loop, because h_t needs h_{t-1}.

Shapes: T time steps, H hidden units, V vocabulary size. A cell's state is a 1-D
array of length `state_size(H)`; its first H entries are the hidden vector h that
the output layer reads.

The contract every cell keeps (the model, the trainer, checkpoints and analysis rely on it):
    param_names                      names of the cell's own parameters (the model adds Why, by)
    state_size(H) -> int             length of the carried state (H for RNN/GRU, 2H for LSTM = [h, c])
    init_params(rng, V, H) -> dict   fresh parameters, drawn from rng in a fixed order
    forward(p, inputs, state0) -> (hs (T, H), cache, last state)
    backward(p, cache, dhs, out)     dhs (T, H) = dL/dh_t from the output layer; the cell adds the
                                     gradient arriving from step t+1 IN PLACE, so on return dhs[t] is
                                     the total dL/dh_t (the gradient-flow view reads it); writes the
                                     gradients of its parameters into the arrays of `out`
    step(p, ix, state) -> (new state, h)   one character, for sampling
    probe_extras(cache) -> dict      optional: per-position internals to show, each (T, H)

What a cell says about itself (the page, the analysis and the compare presets read these, so a new
cell is one class plus one line in CELLS):
    label      the cell selector's entry
    help       one or two sentences for the selector's help text
    equation   how the cell turns (x, h_prev) into h, as the microscope prints it
    views      {key: View}: what the hidden-state heatmap can show, h ("hidden") first, then the
               keys of probe_extras; View.kind picks the colour range ("tanh" in [-1, 1],
               "gate" in [0, 1], "unbounded" scaled to the values)

Vanilla RNN (min-char-rnn):
    h_t = tanh(Wxh[:, x_t] + Whh h_{t-1} + bh)
LSTM and GRU: see rnn_core.cells_gated (equations, parameter layout).
"""
from __future__ import annotations

import numpy as np

from .cell_views import HIDDEN, View


def one_hot(ids: np.ndarray, V: int) -> np.ndarray:
    """(T,) ids -> (T, V) rows of zeros with a single 1."""
    x = np.zeros((len(ids), V))
    x[np.arange(len(ids)), ids] = 1.0
    return x


class RNNCell:
    name = "rnn"
    param_names = ("Wxh", "Whh", "bh")
    label = "RNN: tanh cell (min-char-rnn)"
    help = ("one tanh layer, h = tanh(Wxh x + Whh h + bh), as in min-char-rnn; its gradients fade over long "
            "distances.")
    equation = "h = tanh(Wxh·x + Whh·h_prev + bh)"
    views = {HIDDEN: View("hidden state h", "h = tanh(Wxh x + Whh h_prev + bh)", "tanh")}

    @staticmethod
    def state_size(H: int) -> int:
        return H

    def init_params(self, rng: np.random.Generator, V: int, H: int) -> dict[str, np.ndarray]:
        # The seed draws Wxh, Whh, then Why (the model's): keep that order.
        return {
            "Wxh": rng.standard_normal((H, V)) * 0.01,  # (H, V) input -> hidden
            "Whh": rng.standard_normal((H, H)) * 0.01,  # (H, H) hidden -> hidden
            "bh": np.zeros(H),                          # (H,)
        }

    def forward(self, p: dict, inputs: np.ndarray, state0: np.ndarray):
        """Run the window. Returns (hs (T, H), cache for backward, last state)."""
        Wxh, Whh, bh = p["Wxh"], p["Whh"], p["bh"]
        T, H = len(inputs), Whh.shape[0]
        # Indexing a column of Wxh is the one-hot product Wxh @ x_t without the product.
        xw = Wxh[:, inputs].T + bh                      # (T, H)
        hs = np.empty((T + 1, H))                        # hs[0] = h_{-1}
        hs[0] = state0
        buf = np.empty(H)
        dot, tanh = np.dot, np.tanh
        for t in range(T):
            pre = xw[t]
            pre += dot(Whh, hs[t], out=buf)
            tanh(pre, out=hs[t + 1])
        return hs[1:], (inputs, hs), hs[T].copy()

    def backward(self, p: dict, cache, dhs: np.ndarray, out: dict) -> None:
        """dhs (T, H) = dL/dh_t from the output layer (overwritten). Writes the cell's grads into `out`."""
        inputs, hs = cache
        Whh = p["Whh"]
        T, H = dhs.shape
        dtanh = 1.0 - hs[1:] * hs[1:]                    # (T, H) tanh'(pre_t)
        draw = np.empty((T, H))                          # dL/d(pre-activation)
        dnext = np.zeros(H)
        dot, mul = np.dot, np.multiply
        for t in range(T - 1, -1, -1):
            dh = dhs[t]
            dh += dnext                                  # from the output, plus from step t+1
            d = draw[t]
            mul(dtanh[t], dh, out=d)
            dot(d, Whh, out=dnext)                       # Whh.T @ draw[t]
        # dWxh = draw.T @ onehot(inputs): a small product beats a scatter-add (np.add.at) here.
        np.dot(draw.T, one_hot(inputs, out["Wxh"].shape[1]), out=out["Wxh"])
        np.dot(draw.T, hs[:-1], out=out["Whh"])
        draw.sum(axis=0, out=out["bh"])

    def step(self, p: dict, ix: int, state: np.ndarray):
        """One character through the cell (sampling). Returns (new state, h)."""
        h = np.tanh(p["Wxh"][:, ix] + p["Whh"] @ state + p["bh"])
        return h, h


# The gated cells live in their own module; it imports nothing from this one, so no cycle.
from .cells_gated import GRUCell, LSTMCell  # noqa: E402

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def make_cell(name: str):
    try:
        return CELLS[name]()
    except KeyError:
        raise ValueError(f"Unknown cell {name!r}; choose one of {', '.join(sorted(CELLS))}.") from None
