"""Shared by the reliability tests: a small trainer, an exact snapshot of its whole state, and `refused`."""
from __future__ import annotations

import numpy as np
import pytest

from assets.corpora import read_corpus
from rnn_core import TrainConfig, Trainer

PROSE = read_corpus("prose")


def small_trainer(iters: int = 0, **cfg) -> Trainer:
    """H=16, T=10 on the prose corpus: a real run that costs milliseconds."""
    cfg = {"hidden_size": 16, "seq_length": 10, "sample_every": 50, **cfg}
    tr = Trainer(PROSE, TrainConfig(**cfg))
    if iters:
        tr.step(iters)
    return tr


def snapshot(tr: Trainer) -> dict:
    """Copies of everything a failed action must leave alone (and a round trip must keep).

    A run in a worker (the page's RunProxy) is read back whole through its checkpoint."""
    if not isinstance(tr, Trainer):
        from rnn_core.checkpoint import load_trainer

        tr = load_trainer(tr.checkpoint())
    return {
        "config": tr.config,
        "vocab": tr.vocab.chars,
        "text": tr.text,
        "data": tr.data.copy(),
        "flat": tr.model.flat.copy(),
        "params": {k: v.copy() for k, v in tr.model.params.items()},
        "optim_name": tr.optimizer.name,
        "optim_t": tr.optimizer.t,
        "optim": {k: v.copy() for k, v in tr.optimizer.state.items()},
        "iteration": tr.iteration,
        "pointer": tr.pointer,
        "state": tr.state.copy(),
        "smooth_loss": tr.smooth_loss,
        "history": (tr.history.iterations.copy(), tr.history.loss.copy(), tr.history.smooth.copy(),
                    tr.history.cap, tr.history.compactions,
                    getattr(tr.history, "_open", 0), getattr(tr.history, "_open_sum", 0.0)),  # the row still filling
        "samples": list(tr.samples),
    }


def assert_same(a: dict, b: dict) -> None:
    """Bit for bit: array_equal on every array, == on the rest."""
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), key
        elif isinstance(x, dict):
            assert x.keys() == y.keys(), key
            for k in x:
                assert np.array_equal(x[k], y[k]), f"{key}/{k}"
        elif isinstance(x, tuple) and key == "history":
            for u, v in zip(x, y):
                assert np.array_equal(u, v), key
        else:
            assert x == y, key


def refused(existing: Trainer, action, exc_type=ValueError, *words: str) -> str:
    """Run `action`; it must raise `exc_type` (a ValueError) naming `words`; `existing` must not change.

    What every bad input a person can give the engine must do: a ValueError subclass whose message holds
    the words a person needs to act on, and the trainer that existed before the failed action bit for bit
    the same afterwards (the app keeps showing the run the visitor already had).
    """
    before = snapshot(existing)
    with pytest.raises(exc_type) as info:
        action()
    assert isinstance(info.value, ValueError), f"{type(info.value).__name__} is not a ValueError"
    message = str(info.value)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    assert "Traceback" not in message and len(message) < 600
    assert_same(before, snapshot(existing))
    return message
