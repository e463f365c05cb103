"""Optimizers over the model's flat parameter vector.

Each update is computed into scratch buffers first and committed only if every
number is finite, so a diverging step leaves parameters and optimizer state as
they were (see DivergenceError).

    adagrad   mem += g*g;  w -= lr * g / sqrt(mem + 1e-8)        (min-char-rnn)
    sgd       w -= lr * g
    momentum  v = 0.9 v - lr * g;  w += v
    adam      m, v moving averages (0.9, 0.999), bias-corrected, eps 1e-8
"""
from __future__ import annotations

import numpy as np

from .buffers import aligned_zeros


class DivergenceError(FloatingPointError):
    """Training produced a non-finite number; the model is left at its last finite state.

    `needs_reset` is True when that state cannot be trained from at all: its loss on the next
    window is already non-finite (a target got probability 0), and the forward pass does not
    depend on the learning rate, so only a Reset helps. False when the update overflowed: the
    kept model is healthy and training continues once the learning rate is lower.
    """

    def __init__(self, message: str = "", *, needs_reset: bool = False):
        super().__init__(message)
        self.needs_reset = needs_reset


def all_finite(*arrays: np.ndarray) -> bool:
    # A sum is non-finite if any entry is (inf - inf = nan): one pass, no boolean temporary.
    return all(np.isfinite(a.sum()) for a in arrays)


class Optimizer:
    """`state` maps a name ('mem', 'm', ...) to a flat array the size of the parameters."""

    name = ""
    state_names: tuple[str, ...] = ()

    def __init__(self, size: int):
        self.t = 0  # updates made so far
        # On cache lines (numpy's large arrays start 16 bytes past one): every vector load of the
        # passes over them then reads one line, not two (Adagrad, 23,165 parameters: 56 vs 59 us).
        self.state = {s: aligned_zeros(size) for s in self.state_names}
        self._delta = aligned_zeros(size)
        self._new = {s: aligned_zeros(size) for s in self.state_names}

    def update(self, flat_params: np.ndarray, flat_grad: np.ndarray, lr: float) -> None:
        self._propose(flat_grad, lr)   # fills self._delta and self._new
        if not self._finite():
            raise DivergenceError("the update would make the parameters non-finite.")
        # Commit by swapping buffers: the proposal becomes the state, the old state the next scratch.
        state, new = self.state, self._new
        for s in self.state_names:
            state[s], new[s] = new[s], state[s]
        flat_params += self._delta
        self.t += 1

    def _finite(self) -> bool:
        return all_finite(self._delta, *self._new.values())

    def _propose(self, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError


class Adagrad(Optimizer):
    name, state_names = "adagrad", ("mem",)

    def update(self, flat_params, flat_grad, lr):
        # The base class's propose / check / commit, written out for the default optimizer: three method
        # calls, a loop and five dict look-ups fewer per iteration, the same operations in the same order.
        mem, d = self._new["mem"], self._delta
        np.square(flat_grad, mem)       # the same products as g * g; multiply(g, g) takes a slower loop
        mem += self.state["mem"]
        np.add(mem, 1e-8, out=d)
        np.sqrt(d, out=d)
        np.divide(flat_grad, d, out=d)
        d *= -lr
        # One BLAS pass instead of two sums: the dot is non-finite if any entry of either array is
        # (nan propagates, inf * 0 is nan). It can also overflow, but only for mem near 1e308.
        if not np.isfinite(np.dot(d, mem)):
            raise DivergenceError("the update would make the parameters non-finite.")
        self._new["mem"], self.state["mem"] = self.state["mem"], mem
        flat_params += d
        self.t += 1


class SGD(Optimizer):
    name = "sgd"

    def _propose(self, g, lr):
        np.multiply(g, -lr, out=self._delta)


class Momentum(Optimizer):
    name, state_names = "momentum", ("velocity",)
    beta = 0.9

    def _propose(self, g, lr):
        v = self._new["velocity"]
        np.multiply(self.state["velocity"], self.beta, out=v)
        v -= lr * g
        self._delta[...] = v


class Adam(Optimizer):
    name, state_names = "adam", ("m", "v")
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def _propose(self, g, lr):
        t = self.t + 1
        m, v = self._new["m"], self._new["v"]
        np.multiply(self.state["m"], self.beta1, out=m)
        m += (1 - self.beta1) * g
        np.multiply(self.state["v"], self.beta2, out=v)
        v += (1 - self.beta2) * g * g
        denom = np.sqrt(v / (1 - self.beta2**t)) + self.eps
        np.divide(m, denom, out=self._delta)
        self._delta *= -lr / (1 - self.beta1**t)


OPTIMIZERS = {cls.name: cls for cls in (Adagrad, SGD, Momentum, Adam)}


def make_optimizer(name: str, size: int) -> Optimizer:
    try:
        return OPTIMIZERS[name](size)
    except KeyError:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(sorted(OPTIMIZERS))}.") from None
