"""Shared helpers for the engine tests and the engine benchmark.

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

# 95 printable ASCII characters, letters first so small alphabets still look like words.
_ALPHABET = (
    "etaoinshrdlcumwfgypbvkjxqz"
    " .,;:!?'\"-\n"
    "ETAOINSHRDLCUMWFGYPBVKJXQZ"
    "0123456789"
    "()[]{}<>/\\|@#$%^&*_+=~`"
)


def make_text(n_chars: int, n_distinct: int = 65, seed: int = 0) -> str:
    """A deterministic text of exactly `n_chars` characters using exactly `n_distinct` distinct ones.

    Words of 1-8 letters drawn with Zipf-like frequencies, separated by spaces, so a model has
    something learnable (and the loss is not flat). Every one of the n_distinct characters occurs.
    """
    if not 2 <= n_distinct <= len(_ALPHABET):
        raise ValueError(f"n_distinct must be in 2..{len(_ALPHABET)}")
    if n_chars < n_distinct:
        raise ValueError("n_chars must be at least n_distinct")
    rng = np.random.default_rng(seed)
    chars = np.array(list(_ALPHABET[:n_distinct]))
    weights = 1.0 / np.arange(1, n_distinct + 1) ** 0.8
    weights /= weights.sum()
    ids = rng.choice(n_distinct, size=n_chars, p=weights)
    # Word breaks: a space (if the alphabet has one) every 1-8 characters.
    if " " in chars:
        space = int(np.flatnonzero(chars == " ")[0])
        gaps = np.cumsum(rng.integers(2, 9, size=n_chars // 2 + 1))
        ids[gaps[gaps < n_chars]] = space
    # Make sure every character occurs at least once (at evenly spread positions).
    spots = np.linspace(0, n_chars - 1, n_distinct).astype(int)
    ids[spots] = rng.permutation(n_distinct)
    codes = np.frombuffer(_ALPHABET[:n_distinct].encode("ascii"), dtype=np.uint8)
    return codes[ids].tobytes().decode("ascii")  # fast even for megabytes (no per-char join)


def params_copy(model) -> dict[str, np.ndarray]:
    return {k: np.array(v, copy=True) for k, v in model.params.items()}


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
