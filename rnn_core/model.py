"""The character model: a recurrent cell plus a softmax output layer.

    scores_t = Why h_t + by          (V,)   for each of the B streams
    p_t      = softmax(scores_t)
    loss     = 1/B sum_b sum_t -log p_t[target_t]   (nats per window, averaged over streams)

The output layer runs for all T steps of all B streams as one matrix product and one softmax.

All parameters live in one flat float64 vector; `params` holds named views into
it, so the optimizer, clipping and finiteness checks each touch one array
instead of five (most of the speed of a small model is per-call overhead).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .buffers import aligned_zeros
from .cells import make_cell


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax; subtracting the max keeps exp() from overflowing."""
    z = scores / temperature if temperature != 1.0 else np.array(scores, dtype=float)  # a copy: callers keep scores
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


class ParamDict(dict):
    """Named views into a flat buffer. Assigning an array copies it into the view,
    so `params["Whh"] = w` and `params["Whh"][...] = w` both change the live model."""

    def __setitem__(self, key, value):
        if key not in self:
            raise KeyError(f"No parameter named {key!r}; the model has {', '.join(self)}.")
        view = dict.__getitem__(self, key)
        value = np.asarray(value, dtype=float)
        if value.size != view.size:
            raise ValueError(f"Parameter {key!r} has shape {view.shape}; got an array of shape {value.shape}.")
        view[...] = value.reshape(view.shape)


def flat_views(shapes: dict[str, tuple], align: str | None = None) -> tuple[np.ndarray, ParamDict]:
    """A zeroed flat buffer and a ParamDict of views into it, one per shape.

    The buffer starts on a cache line (the optimizer's passes over it then read whole lines, like its
    own buffers) when the view named `align` (the recurrent matrix, read by every step's product)
    still starts on 32 bytes, all OpenBLAS's kernels need; otherwise that view starts on the line.
    """
    names = list(shapes)
    at = sum(int(np.prod(shapes[k])) for k in names[: names.index(align)]) if align in shapes else 0
    flat = aligned_zeros(sum(int(np.prod(s)) for s in shapes.values()), 0 if at % 4 == 0 else at)
    views, start = {}, 0
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        views[name] = flat[start : start + n].reshape(shape)
        start += n
    d = ParamDict()
    for k, v in views.items():
        dict.__setitem__(d, k, v)
    return flat, d


@dataclass
class Forward:
    """Everything one forward pass over a window computed (shapes without B for a single stream)."""

    hidden: np.ndarray   # (T, B, H) hidden vectors h_t, or (T, H)
    probs: np.ndarray    # (T, B, V) next-character distributions, or (T, V)
    state: np.ndarray    # (B, S) the cell state after the last character, or (S,)
    cache: object        # what the cell's backward needs


class Model:
    """Parameters (live arrays in `params`) and the maths over one window of B streams."""

    def __init__(self, cell: str, vocab_size: int, hidden_size: int, rng: np.random.Generator | None = None):
        self.cell = make_cell(cell)
        self.V, self.H = int(vocab_size), int(hidden_size)
        rng = rng if rng is not None else np.random.default_rng(0)
        init = self.cell.init_params(rng, self.V, self.H)
        init["Why"] = rng.standard_normal((self.V, self.H)) * 0.01  # (V, H) hidden -> scores
        init["by"] = np.zeros(self.V)                                # (V,)
        shapes = {k: v.shape for k, v in init.items()}
        hot = self.cell.param_names[1]                    # Whh / Wh: read by every step's product
        self.flat, self.params = flat_views(shapes, hot)
        for k, v in init.items():
            self.params[k] = v
        self.flat_grad, self.grads = flat_views(shapes, hot)   # reused by every training step
        self._work: dict[tuple, tuple] = {}               # (T, B) -> buffers of train_window, reused every iteration
        self._reuse = getattr(self.cell, "reuses_buffers", False)

    @property
    def state_size(self) -> int:
        return self.cell.state_size(self.H)

    def zero_state(self, batch_size: int | None = None) -> np.ndarray:
        """(S,) for one stream, or (B, S) when batch_size is given."""
        return np.zeros(self.state_size if batch_size is None else (batch_size, self.state_size))

    @np.errstate(over="ignore", divide="ignore", invalid="ignore")   # _probs' first try may overflow; it then retries
    def forward(self, inputs: np.ndarray, state0: np.ndarray | None = None) -> Forward:
        """inputs (T,) for one stream (state0 (S,)) or (T, B) for B streams (state0 (B, S))."""
        inputs = np.asarray(inputs, dtype=np.intp)
        single = inputs.ndim == 1
        if single:
            inputs = inputs[:, None]
        B = inputs.shape[1]
        state0 = self.zero_state(B) if state0 is None else np.asarray(state0, dtype=float).reshape(B, -1)
        hs, cache, state = self.cell.forward(self.params, inputs, state0)
        probs = self._probs(hs)
        if single:
            return Forward(hs[:, 0], probs[:, 0], state[0], cache)
        return Forward(hs, probs, state, cache)

    def _probs(self, hs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(T, B, H) hidden -> (T, B, V) softmax of the scores, as one matrix product for all steps."""
        T, B, H = hs.shape
        h2, Why_T, by = hs.reshape(T * B, H), self.params["Why"].T, self.params["by"]
        z = h2.dot(Why_T, out)                            # (T*B, V) scores, made probabilities in place
        z += by
        # First without subtracting each row's maximum (as min-char-rnn does): two calls fewer. That is
        # exact unless a row's exp-sum overflows or underflows, which r . s catches (inf * 0 is nan),
        # and then the scores are made again and shifted. The ufuncs directly: the ndarray methods
        # add a Python wrapper layer per call.
        np.exp(z, out=z)
        s = np.add.reduce(z, 1, None, None, True)         # (T*B, 1) row sums
        r = np.reciprocal(s)
        if not np.isfinite(r.T.dot(s)):
            z = h2.dot(Why_T, out)
            z += by
            z -= np.maximum.reduce(z, 1, None, None, True)
            np.exp(z, out=z)
            r = np.reciprocal(np.add.reduce(z, 1, None, None, True))
        z *= r
        return z.reshape(T, B, self.V)

    def loss_and_grads(self, inputs, targets, h0: np.ndarray | None = None):
        """Loss (nats per window, averaged over streams), gradients (same keys as params), last state.

        No clipping here: the trainer clips, so gradient checks see the true gradient.
        The gradients returned are fresh copies; the trainer uses `grads_into_buffer`.
        """
        loss, state = self.grads_into_buffer(inputs, targets, h0)
        return loss, {k: v.copy() for k, v in self.grads.items()}, state

    @np.errstate(over="ignore", divide="ignore", invalid="ignore")   # as forward; Trainer.step sets its own
    def grads_into_buffer(self, inputs, targets, h0=None) -> tuple[float, np.ndarray]:
        """Like loss_and_grads, but leaves the gradients in self.flat_grad / self.grads.

        inputs, targets (T,) or (T, B). The loss is summed over the window and averaged over the
        B streams, and the gradients are those of that loss: the mean of the streams' gradients.
        So one clip threshold and one learning rate mean the same at every B (see README).
        """
        inputs = np.asarray(inputs, dtype=np.intp)
        targets = np.asarray(targets, dtype=np.intp).reshape(-1)
        single = inputs.ndim == 1
        if single:
            inputs = inputs[:, None]
        B = inputs.shape[1]
        h0 = self.zero_state(B) if h0 is None else np.asarray(h0, dtype=float).reshape(B, -1)
        loss, state = self.train_window(inputs, targets, h0)
        return loss, state[0] if single else state

    def train_window(self, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray) -> tuple[float, np.ndarray]:
        """grads_into_buffer without the argument checks (the trainer's hot path).

        inputs (T, B) intp, targets (T*B,) intp in the same order, h0 (B, S) float. Returns (loss, state (B, S)).
        """
        T, B = inputs.shape
        n = T * B
        params, g, V = self.params, self.grads, self.V
        work = self._work.get((T, B))
        if work is None:  # per window shape: row offsets of the targets, scores (n, V), dL/dh from the output
            dh = aligned_zeros((T, B, self.H))
            work = self._work[T, B] = (np.arange(n) * V, aligned_zeros((n, V)), dh, dh.reshape(n, self.H), np.ones(n))
        base, scores, dh, dh2, ones = work
        if self._reuse:
            hs, cache, state = self.cell.forward(params, inputs, h0, True)
        else:
            hs, cache, state = self.cell.forward(params, inputs, h0)
        dscores = self._probs(hs, scores).reshape(n, V)  # (T*B, V), turned into (p - onehot) / B in place
        # The target entries by flat position: one add and a 1-D take/put instead of an arange and
        # two 2-D fancy indexings per iteration.
        at = base + targets                               # (T*B,) flat index of each target probability
        flat = dscores.reshape(-1)                        # a view (the buffer is C-contiguous)
        picked = flat.take(at)
        flat[at] = picked - 1.0
        loss = -float(np.add.reduce(np.log(picked, out=picked)))  # = sum of -log p: negation is exact
        if B > 1:
            loss /= B
            dscores *= 1.0 / B
        # The ndarray.dot method: np.dot's dispatch layer costs ~0.1 us a call.
        dscores.dot(params["Why"], dh2)                   # (T*B, H) into dh (T, B, H): the same array every call
        self.cell.backward(params, cache, dh, g)
        dscores.T.dot(hs.reshape(-1, self.H), g["Why"])   # (V, H)
        ones.dot(dscores, g["by"])                        # (V,) column sums as a product: faster than add.reduce
        return loss, state

    def step(self, ix: int, state: np.ndarray):
        """Feed one character id; returns (new state, scores (V,))."""
        state, h = self.cell.step(self.params, ix, state)
        return state, self.params["Why"] @ h + self.params["by"]
