"""Deterministic test texts and parameter copies, shared by the tests and the benchmarks (numpy only).

    make_text(n, n_distinct, seed)   word-like text of exactly n characters using exactly n_distinct ones
    params_copy(model)               {name: copy} of a model's live parameters (to start a reference from)
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
