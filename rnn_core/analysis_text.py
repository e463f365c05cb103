"""Analysis that needs no model: features of a text, unit rankings, surprise, n-gram baselines, samples.

Shapes: T characters of a probe text, H hidden units, V vocabulary size, N ids of a training text.
Every function is pure (arrays in, arrays out) and never changes its arguments.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

FEATURES = ("inside quotes", "bracket depth", "position in line", "after a space", "uppercase")
_OPEN, _CLOSE = [ord(c) for c in "([{"], [ord(c) for c in ")]}"]
_BINCOUNT_MAX = 1 << 22  # count tables up to 4M cells use np.bincount; sparser keys use np.unique


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)


def text_features(text: str) -> dict[str, np.ndarray]:
    """Simple properties of each character of `text`, as the state AFTER reading that character.

    Each value is a (T,) float64 array, keyed by the names in FEATURES:
      "inside quotes"     1 from an opening '"' up to (not including) its closing '"', else 0
      "bracket depth"     nesting depth of ( [ { ; an opening bracket counts itself, a closing one
                          does not; an unmatched closer never takes the depth below 0
      "position in line"  0 for the first character of a line, 1 for the next, ...
      "after a space"     1 where the character just read is a space (the next one starts a word)
      "uppercase"         1 where the character is an uppercase letter
    """
    codes = _codes(text)
    idx = np.arange(len(codes))
    quotes = np.cumsum(codes == ord('"')) % 2
    steps = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE)
    walk = np.cumsum(steps)
    # A walk reflected at 0 (Skorokhod): subtract the lowest point reached so far, if below 0.
    depth = walk - np.minimum(np.minimum.accumulate(walk), 0) if len(walk) else walk
    newline_at = np.maximum.accumulate(np.where(codes == 10, idx, -1)) if len(codes) else idx
    last_newline_before = np.concatenate([[-1], newline_at[:-1]]) if len(codes) else idx
    upper = np.fromiter((c.isupper() for c in text), dtype=bool, count=len(text))
    return {
        "inside quotes": quotes.astype(float),
        "bracket depth": depth.astype(float),
        "position in line": (idx - last_newline_before - 1).astype(float),
        "after a space": (codes == 32).astype(float),
        "uppercase": upper.astype(float),
    }


def _centered(a: np.ndarray, axis: int) -> np.ndarray:
    """`a` minus its mean along `axis`; columns that are constant (up to rounding) become all 0."""
    c = a - a.mean(axis=axis, keepdims=True)
    scale = np.maximum(np.abs(a).max(axis=axis, keepdims=True), 1.0) if a.size else 1.0
    flat = np.ptp(a, axis=axis, keepdims=True) <= 1e-12 * scale
    return np.where(flat, 0.0, c)


def unit_correlations(hidden: np.ndarray, features: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Pearson correlation of every feature with every hidden unit.

    hidden (T, H), features {name: (T,)} -> (names, r (F, H)). A constant unit or feature
    has correlation 0 (not NaN, and no warning).
    """
    hidden = np.asarray(hidden, dtype=float)
    if hidden.ndim != 2:
        raise ValueError(f"hidden must be a (T, H) array, got shape {hidden.shape}.")
    names = list(features)
    T = hidden.shape[0]
    F = np.array([np.asarray(features[k], dtype=float) for k in names]).reshape(len(names), -1)  # (F, T)
    if F.shape[1] != T:
        raise ValueError(f"Each feature needs one value per character: hidden has {T} rows, features have {F.shape[1]}.")
    if T == 0:
        return names, np.zeros((len(names), hidden.shape[1]))
    X, Fc = _centered(hidden, 0), _centered(F, 1)                  # (T, H), (F, T)
    num = Fc @ X                                                   # (F, H)
    den = np.sqrt((Fc * Fc).sum(axis=1))[:, None] * np.sqrt((X * X).sum(axis=0))[None, :]
    r = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return names, np.clip(r, -1.0, 1.0)


def rank_units(hidden: np.ndarray, features: Mapping[str, np.ndarray], top: int = 3) -> list[tuple[str, int, float]]:
    """For each feature (in order), the `top` units that track it best, by |Pearson r|.

    Returns [(feature, unit, r), ...]: features in the given order, each with its units sorted by
    |r| descending (ties: lower unit first). Features that are constant on this text (no quotes,
    no brackets, ...) and units with r = 0 are left out: there is nothing to track.
    """
    names, r = unit_correlations(hidden, features)
    out = []
    for k, name in enumerate(names):
        order = np.argsort(-np.abs(r[k]), kind="stable")[:top]
        out += [(name, int(u), float(r[k, u])) for u in order if r[k, u] != 0.0]
    return out


def unit_activation(hidden: np.ndarray, unit: int) -> np.ndarray:
    """(T,) activation of one hidden unit per character: the values for
    `char_strip_html(text, values, vmin=-1, vmax=1, cmap="diverging")` (tanh units lie in [-1, 1])."""
    hidden = np.asarray(hidden)
    if hidden.ndim != 2:
        raise ValueError(f"hidden must be a (T, H) array, got shape {hidden.shape}.")
    if not isinstance(unit, (int, np.integer)) or not 0 <= unit < hidden.shape[1]:
        raise ValueError(f"Pick a hidden unit from 0 to {hidden.shape[1] - 1}, not {unit!r}.")
    return hidden[:, int(unit)].astype(float)


def surprise(probe, chars: Sequence[str], k: int = 3) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
    """Where the model was surprised on a probe text (a rnn_core Probe: .probs (T, V), .loss (T-1,)).

    Returns (loss (T-1,), guesses): loss[t] = -log p(char t+1 | chars 0..t) in nats, and
    guesses[t] = the model's k most likely next characters at position t, [(char, p), ...] most
    likely first, from the same distribution. Both describe the character at position t+1.
    """
    probs = np.asarray(probe.probs)[:-1]                           # (T-1, V) predictions with a known answer
    if probs.size and probs.shape[1] != len(chars):
        raise ValueError(f"The probe has {probs.shape[1]} probabilities per position but the vocabulary has {len(chars)} characters.")
    k = max(1, min(int(k), len(chars)))
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]        # (T-1, k)
    top_p = np.take_along_axis(probs, top, axis=1)
    guesses = [[(chars[i], float(p)) for i, p in zip(row, prow)] for row, prow in zip(top, top_p)]
    return np.asarray(probe.loss, dtype=float).copy(), guesses


def _counts(keys: np.ndarray, size: int) -> np.ndarray:
    if size <= _BINCOUNT_MAX:
        return np.bincount(keys, minlength=size)
    return np.unique(keys, return_counts=True)[1]


def _entropy(counts: np.ndarray) -> float:
    """Plug-in entropy (nats) of the empirical distribution given by counts."""
    c = counts[counts > 0].astype(float)
    n = c.sum()
    return float(math.log(n) - (c * np.log(c)).sum() / n) if n else 0.0


def ngram_entropies(ids: np.ndarray, V: int) -> dict[str, float]:
    """Counting baselines for the loss chart, in nats per character (empirical plug-in estimates).

      "unigram"  H(x_t)                     guess from character frequencies alone
      "bigram"   H(x_t | x_{t-1})           = H(x_{t-1}, x_t) - H(x_{t-1}), over the N-1 pairs
      "trigram"  H(x_t | x_{t-2}, x_{t-1})  = H(triple) - H(its first two), over the N-2 triples

    These are the losses of a model that memorized the counts of THIS text, so the conditional
    ones are optimistic: with many contexts seen once, the plug-in entropy is far below what the
    same counts would score on new text. They are a lower bar than a held-out loss. A key is left
    out when the text is too short for it (fewer than 2 or 3 characters).
    """
    ids = np.asarray(ids, dtype=np.int64).ravel()
    V = int(V)
    if ids.size == 0:
        return {}
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"ids must lie in 0..{V - 1}.")
    out = {"unigram": _entropy(np.bincount(ids, minlength=V))}
    if ids.size >= 2:
        pair = ids[:-1] * V + ids[1:]
        out["bigram"] = _entropy(_counts(pair, V * V)) - _entropy(np.bincount(ids[:-1], minlength=V))
    if ids.size >= 3:
        ctx = ids[:-2] * V + ids[1:-1]
        out["trigram"] = _entropy(_counts(ctx * V + ids[2:], V ** 3)) - _entropy(_counts(ctx, V * V))
    # Rounding can leave -1e-16 for a text that is fully determined.
    return {k: max(v, 0.0) for k, v in out.items()}


def validation_due(last_iteration: int | None, iteration: int, every: int) -> bool:
    """Whether a validation loss should be recorded now: never recorded, or `every` iterations on.

    Works with any number of iterations per tick (the app steps in chunks)."""
    if every <= 0 or iteration <= 0:
        return False
    return last_iteration is None or iteration - last_iteration >= every


def sample_iterations(samples: Sequence[tuple[int, str]]) -> list[int]:
    """The iterations at which samples were recorded, sorted (the replay slider's options)."""
    return sorted({int(it) for it, _ in samples})


def nearest_sample(samples: Sequence[tuple[int, str]], iteration: float) -> tuple[int, str] | None:
    """The (iteration, text) sample recorded closest to `iteration` (the earlier one on a tie); None if none."""
    best = None
    for it, text in samples:
        d = abs(int(it) - iteration)
        if best is None or d < best[0] or (d == best[0] and int(it) < best[1][0]):
            best = (d, (int(it), str(text)))
    return None if best is None else best[1]
