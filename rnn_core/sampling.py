"""Writing text with a trained model, one character at a time."""
from __future__ import annotations

import math

import numpy as np

from . import limits
from .model import Model
from .text import Vocab, char_label


def sample_ids(
    model: Model,
    prime_ids: np.ndarray,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    rng: np.random.Generator,
    state: np.ndarray | None = None,
) -> np.ndarray:
    """Feed `prime_ids`, then draw `length` ids, each fed back in. Returns (length,) ids."""
    state = model.zero_state() if state is None else np.array(state, dtype=float)
    for ix in prime_ids[:-1]:
        state, _ = model.step(int(ix), state)
    out = np.empty(length, dtype=np.intp)
    uniforms = rng.random(length)            # one draw per character, made up front
    ix = int(prime_ids[-1])
    step, last = model.step, model.V - 1
    # Per character this loop is a handful of small numpy calls: in-place ops and ndarray methods
    # (not np.* wrappers) keep it about 30% faster; the draws are bit for bit the same.
    with np.errstate(over="ignore", under="ignore"):  # see the shift below
        for n in range(length):
            state, z = step(ix, state)                # z: fresh (V,) scores, ours to modify
            if greedy:
                ix = int(z.argmax())
            else:
                # Shift before dividing: a tiny temperature then sends every score but the top one
                # to -inf (greedy, as it should) instead of overflowing to inf - inf = nan.
                # After the shift the max is 0 (top-k keeps it), so exp() needs no second shift.
                z -= z.max()
                if temperature != 1.0:
                    z /= temperature
                if top_k is not None and top_k <= last:
                    z[z < np.partition(z, -top_k)[-top_k]] = -np.inf
                np.exp(z, out=z)
                cdf = z.cumsum()
                # Inverse-CDF draw: the same distribution as rng.choice(V, p=...), far less overhead.
                ix = min(int(cdf.searchsorted(uniforms[n] * cdf[-1], "right")), last)
            out[n] = ix
    return out


def check_sample_args(vocab: Vocab, prime: str, length: int, temperature: float, top_k) -> None:
    if not isinstance(prime, str) or not prime:
        raise ValueError("Give a seed character to start the sample from.")
    missing = vocab.unknown(prime)
    if missing:
        names = ", ".join(repr(char_label(c)) for c in missing[:10])
        raise ValueError(f"The seed {names} is not in the vocabulary of this text; pick a character the text contains.")
    if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 1:
        raise ValueError(f"The sample length must be a whole number of at least 1, not {length!r}.")
    if length > limits.MAX_SAMPLE_LENGTH:
        raise ValueError(f"The sample length is capped at {limits.MAX_SAMPLE_LENGTH:,} characters.")
    if isinstance(temperature, bool) or not (isinstance(temperature, (int, float, np.integer, np.floating))
                                             and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"The temperature must be a number above 0 (1.0 samples the model as is), not {temperature!r}.")
    if top_k is not None and (not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"top_k must be a whole number of at least 1 (or None for no cut), not {top_k!r}.")


def check_state(state, state_size: int) -> np.ndarray:
    """A starting state given by a caller, as a float copy: the right shape and all finite, or a ValueError."""
    arr = np.asarray(state)
    if arr.shape != (state_size,):
        raise ValueError(f"The starting state must have shape ({state_size},), not {arr.shape}.")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"The starting state must hold numbers, not {arr.dtype} values.")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("The starting state holds NaN or infinite values; pass a finite state (or none to start from zeros).")
    return arr
