"""One-hot inputs without one-hot products (shared by every cell)."""
from __future__ import annotations

import numpy as np


def one_hot(ids: np.ndarray, V: int) -> np.ndarray:
    """(N,) ids -> (N, V) rows of zeros with a single 1."""
    x = np.zeros((len(ids), V))
    x[np.arange(len(ids)), ids] = 1.0
    return x


_MAX_EYE = 512                  # a (512, 512) identity is 2 MB; larger vocabularies build their one-hots
_EYES: dict[int, np.ndarray] = {}  # vocabulary size -> identity; read-only once made


def scatter_columns(rows: np.ndarray, ids: np.ndarray, out: np.ndarray) -> None:
    """out (G, V) = sum over n of rows[n] placed in column ids[n]: the gradient of an input matrix
    read by one-hot columns. rows (N, G), ids (N,).

    For a short window a product with the one-hot matrix is fastest (a few calls); for many
    streams that product costs N*G*V multiply-adds, so rows are summed per id instead.
    """
    if len(ids) <= 64:
        V = out.shape[1]
        # Rows of a cached identity are the one-hot vectors: one take instead of zeros + arange + a
        # 2-D assignment, every training iteration (identities kept only for small vocabularies).
        eye = _EYES.get(V)
        if eye is None and V <= _MAX_EYE:
            eye = _EYES[V] = np.eye(V)
        rows.T.dot(one_hot(ids, V) if eye is None else eye.take(ids, 0), out)
        return
    order = np.argsort(ids, kind="stable")
    sids = ids[order]
    starts = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1]])
    out[...] = 0.0
    out[:, sids[starts]] = np.add.reduceat(rows[order], starts, axis=0).T
