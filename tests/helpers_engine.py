"""Shared helpers for the engine tests (make_text and params_copy live in rnn_core/reference/texts.py).

    make_text(n, n_distinct, seed)         deterministic word-like text with exactly n_distinct chars
    params_copy(model)                     {name: copy} of a model's live parameters
    naive_from_trainer(tr, **kw)           the oracle (rnn_core/reference/oracle.py) started from tr's parameters
    numeric_grad_check(model, inputs, targets, h0, n_samples, rng)
                                           max relative error per parameter, analytic vs central difference

numeric_grad_check works for any cell that keeps the model contract (`model.params` live arrays,
`model.loss_and_grads(inputs, targets, h0)`), so the LSTM/GRU tests can import it too.
"""
from __future__ import annotations

import numpy as np

from rnn_core.reference.texts import make_text, params_copy  # noqa: F401  (re-used by many tests)


def naive_from_trainer(tr, **kw):
    """The per-timestep oracle, on tr's text and settings, starting from tr's current parameters."""
    from rnn_core.reference.oracle import NaiveRNN

    cfg = tr.config
    args = dict(hidden_size=cfg.hidden_size, seq_length=cfg.seq_length,
                learning_rate=cfg.learning_rate, clip=cfg.clip)
    args.update(kw)
    return NaiveRNN(tr.text, params=params_copy(tr.model), **args)


def _select(grad: np.ndarray, n_samples: int, rng: np.random.Generator, floor: float) -> np.ndarray:
    """Flat indices to check: random entries among those whose gradient is above `floor`.

    Entries with a near-zero gradient are excluded on purpose: there the central difference is
    all round-off (about 1e-9 absolute for a loss of ~50) and a relative error means nothing.
    If no entry clears the floor, the single largest is checked (so every parameter is checked).
    """
    a = np.abs(grad.ravel())
    big = np.flatnonzero(a > floor)
    if big.size == 0:
        return np.array([int(np.argmax(a))])
    return rng.choice(big, size=min(n_samples, big.size), replace=False)


def numeric_grad_check(model, inputs, targets, h0=None, n_samples: int = 20,
                       rng: np.random.Generator | None = None, eps: float = 1e-5,
                       floor: float = 1e-2, tiny: float = 1e-12) -> dict[str, float]:
    """Max relative error |a - n| / max(|a| + |n|, tiny) per parameter, over sampled entries.

    a: analytic gradient from model.loss_and_grads; n: central difference (f(w+eps) - f(w-eps)) / 2eps,
    perturbing the live parameter arrays in place (each entry is restored exactly afterwards).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    _, grads, _ = model.loss_and_grads(inputs, targets, h0)
    errors = {}
    for name, p in model.params.items():
        g = grads[name]
        assert g.shape == p.shape, f"gradient {name} has shape {g.shape}, parameter {p.shape}"
        flat = p.reshape(-1)  # a view: writing into it changes the live model
        assert np.shares_memory(flat, p)
        worst = 0.0
        for idx in _select(g, n_samples, rng, floor):
            old = flat[idx]
            flat[idx] = old + eps
            lp = model.loss_and_grads(inputs, targets, h0)[0]
            flat[idx] = old - eps
            lm = model.loss_and_grads(inputs, targets, h0)[0]
            flat[idx] = old
            num = (lp - lm) / (2 * eps)
            ana = g.reshape(-1)[idx]
            worst = max(worst, abs(ana - num) / max(abs(ana) + abs(num), tiny))
        errors[name] = worst
    return errors
