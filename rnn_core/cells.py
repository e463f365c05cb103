"""Recurrent cells: the part of the network that carries a state through time.

A cell owns its recurrent parameters and knows how to run a whole window forward
and backward. Everything around it (input lookup is the cell's, output layer and
softmax are the model's) is batched over time; only the recurrence itself is a
Python loop, because h_t needs h_{t-1}.

Shapes: T time steps, B streams (TrainConfig.batch_size), H hidden units, V vocabulary
size. A cell's state for one stream is a vector of length `state_size(H)` whose first H
entries are the hidden vector h that the output layer reads; B streams carry a (B, state_size)
array. The streams share the parameters and never mix: row b of every array is stream b.

The contract every cell keeps (the model, the trainer, checkpoints and analysis rely on it):
    param_names                      names of the cell's own parameters (the model adds Why, by)
    state_size(H) -> int             length of one stream's state (H for RNN/GRU, 2H for LSTM = [h, c])
    init_params(rng, V, H) -> dict   fresh parameters, drawn from rng in a fixed order
    forward(p, inputs (T, B), state0 (B, S)) -> (hs (T, B, H), cache, last state (B, S))
    backward(p, cache, dhs, out)     dhs (T, B, H) (or (T, H) when B = 1) = dL/dh_t from the output
                                     layer; the cell adds the gradient arriving from step t+1 IN
                                     PLACE, so on return dhs[t] is the total dL/dh_t (the
                                     gradient-flow view reads it); writes the gradients of its
                                     parameters, summed over the streams, into the arrays of `out`
    step(p, ix, state) -> (new state, h)   one character of one stream, state (S,), for sampling
    probe_extras(cache) -> dict      optional: per-position internals of the first stream, each (T, H)

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

from .buffers import aligned_zeros
from .cell_views import HIDDEN, View
from .onehot import one_hot, scatter_columns  # noqa: F401  (one_hot: part of this module's API)


class RNNCell:
    name = "rnn"
    param_names = ("Wxh", "Whh", "bh")
    label = "RNN: tanh cell (min-char-rnn)"
    help = ("one tanh layer, h = tanh(Wxh x + Whh h + bh), as in min-char-rnn; its gradients fade over long "
            "distances.")
    equation = "h = tanh(Wxh·x + Whh·h_prev + bh)"
    views = {HIDDEN: View("hidden state h", "h = tanh(Wxh x + Whh h_prev + bh)", "tanh")}
    reuses_buffers = True   # forward(..., reuse=True) exists (see Model.train_window)

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

    def forward(self, p: dict, inputs: np.ndarray, state0: np.ndarray, reuse: bool = False):
        """Run the window. inputs (T, B), state0 (B, H). Returns (hs (T, B, H), cache, last state (B, H)).

        reuse=True (the trainer's hot path) writes into buffers kept by the cell for this (T, B, H):
        the returned hs and cache are then only valid until the next call; the last state is a copy.
        """
        Wxh, Whh, bh = p["Wxh"], p["Whh"], p["bh"]
        T, B = inputs.shape
        H = Whh.shape[0]
        w = self._work(T, B, H) if reuse else _Work(T, B, H, np.empty((T + 1, B, H)))
        hs = w.hs                                        # (T+1, B, H), hs[0] = h_{-1}
        hs[0] = state0
        # Row x of Wxh.T is the one-hot product Wxh @ x without the product; written straight into
        # hs[1:] so the loop turns each pre-activation into h_t in place.
        np.add(Wxh.T[inputs], bh, out=hs[1:])           # (T, B, H) input term + bias
        WhhT, buf = Whh.T, w.buf
        if B > 1:  # a C-ordered copy: OpenBLAS multiplies (B, H) rows by it faster (B = 16: 4.3 vs 10.4 us)
            WhhT = w.WhhT
            np.copyto(WhhT, Whh.T)
        tanh, add = np.tanh, np.add
        # prev_dot is h_{t-1}.dot, bound once per buffer (the method skips np.dot's dispatch layer,
        # ~0.1 us of the ~1.1 us product); cur is the (B, H) view of h_t; `out` is passed by position
        # (no keyword parsing): at H = 100 these three calls per character are most of the forward pass.
        for prev_dot, cur in w.steps:
            add(cur, prev_dot(WhhT, buf), cur)
            tanh(cur, cur)
        return hs[1:], (inputs, hs), hs[T].copy()

    def backward(self, p: dict, cache, dhs: np.ndarray, out: dict) -> None:
        """dhs (T, B, H) = dL/dh_t from the output layer (made the total in place). Grads into `out`."""
        inputs, hs = cache
        Whh = p["Whh"]
        T, B = inputs.shape
        w = getattr(self, "_last_work", None)
        if w is None or w.hs is not hs:                  # not the hot path's buffers: views for this call only
            w = _Work(T, B, Whh.shape[0], hs)
        if dhs.ndim != 3:                                # the same array each call keeps back_steps' views
            dhs = dhs.reshape(T, B, Whh.shape[0])        # a view: (T, H) callers with B = 1 see the totals
        draw = w.draw                                    # (T, B, H) tanh'(pre_t), made dL/d(pre_t) below
        np.square(hs[1:], draw)
        np.subtract(1.0, draw, draw)
        dnext = w.buf                                    # (B, H) Whh.T @ dL/d(pre_{t+1}), per stream
        mul, add = np.multiply, np.add
        mul(draw[T - 1], dhs[T - 1], draw[T - 1])        # t = T-1: nothing arrives from a later step
        # t = T-2 .. 0: from the output, plus from step t+1; the gradient into the start state is not needed.
        for dh, d, d_later_dot in w.back_steps(dhs):
            d_later_dot(Whh, dnext)
            add(dh, dnext, dh)
            mul(d, dh, d)
        flat = draw.reshape(T * B, -1)
        scatter_columns(flat, inputs.reshape(-1), out["Wxh"])
        flat.T.dot(hs[:-1].reshape(T * B, -1), out["Whh"])
        w.ones.dot(flat, out["bh"])                      # the column sums as a product: a third of add.reduce's time

    def __getstate__(self):
        # Copies and pickles leave the buffers behind: a copied view list would no longer alias its buffer.
        return {k: v for k, v in self.__dict__.items() if k != "_last_work"}

    def _work(self, T: int, B: int, H: int) -> "_Work":
        w = getattr(self, "_last_work", None)            # one set of buffers per cell: a model trains one shape
        if w is None or w.shape != (T, B, H):
            w = self._last_work = _Work(T, B, H, aligned_zeros((T + 1, B, H)))
        return w

    def step(self, p: dict, ix: int, state: np.ndarray):
        """One character through the cell (sampling). Returns (new state, h)."""
        h = np.tanh(p["Wxh"][:, ix] + p["Whh"] @ state + p["bh"])
        return h, h


class _Work:
    """Buffers of one window shape for the tanh cell, and views into them made once, not per step."""

    def __init__(self, T: int, B: int, H: int, hs: np.ndarray):
        self.shape = (T, B, H)
        self.hs = hs                                     # (T+1, B, H) h_{-1} .. h_{T-1}
        self.draw = aligned_zeros((T, B, H))             # dL/d(pre_t)
        self.buf = aligned_zeros((B, H))                 # one step's product
        self.ones = np.ones(T * B)
        self.WhhT = aligned_zeros((H, H)) if B > 1 else None   # see forward
        self.steps = [(prev.dot, cur) for prev, cur in zip(hs[:-1], hs[1:])]   # (h_{t-1}.dot, h_t), t = 0 .. T-1
        self._dhs, self._back = None, []

    def back_steps(self, dhs: np.ndarray) -> list:
        """(dhs[t], draw[t], draw[t+1].dot) for t = T-2 .. 0; rebuilt only when the caller's dhs array changes."""
        if dhs is not self._dhs:
            self._dhs = dhs
            self._back = [(dh, d, later.dot) for dh, d, later in zip(dhs[-2::-1], self.draw[-2::-1], self.draw[:0:-1])]
        return self._back


# The gated cells live in their own module; it imports nothing from this one, so no cycle.
from .cells_gated import GRUCell, LSTMCell  # noqa: E402

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def make_cell(name: str):
    try:
        return CELLS[name]()
    except KeyError:
        raise ValueError(f"Unknown cell {name!r}; choose one of {', '.join(sorted(CELLS))}.") from None
