"""The engine is min-char-rnn, exactly: checked against the per-timestep oracle (rnn_core/reference/oracle.py).

Also the training loop's bookkeeping: initialization, divergence handling, loss history, and the
samples recorded while training.
"""
import math
import re

import numpy as np
import pytest

from rnn_core import DivergenceError, TrainConfig, Trainer
from rnn_core.history import LossHistory
from tests.helpers_engine import make_text, naive_from_trainer
from tests.helpers_reliability import assert_same, snapshot

LONG = make_text(4000, 50, seed=11)   # 4 KB, 50 distinct characters (300 x 25 chars: wraps once)
SHORT = make_text(80, 12, seed=12)    # 80 chars with seq_length 25: the pointer wraps every 3 iterations


def run_both(text, n, **cfg):
    """n iterations of the engine and of the oracle, from the same initial parameters."""
    tr = Trainer(text, TrainConfig(sample_every=0, **cfg))
    naive = naive_from_trainer(tr)
    engine = tr.step(n)
    oracle = np.array([naive.train_step() for _ in range(n)])
    return tr, naive, engine, oracle


def naive_params(naive):
    return {"Wxh": naive.Wxh, "Whh": naive.Whh, "Why": naive.Why, "bh": naive.bh.ravel(), "by": naive.by.ravel()}


def assert_params_close(tr, naive, atol):
    for k, v in naive_params(naive).items():
        np.testing.assert_allclose(tr.model.params[k].reshape(v.shape), v, rtol=0, atol=atol, err_msg=k)


# ---- initialization ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 7])
def test_vocab_sorted_and_init_is_an_independent_draw(seed):
    tr = Trainer(LONG, TrainConfig(hidden_size=20, seed=seed))
    assert list(tr.vocab.chars) == sorted(set(LONG))
    V, H = len(set(LONG)), 20
    rng = np.random.default_rng(seed)
    expected = {
        "Wxh": rng.standard_normal((H, V)) * 0.01,
        "Whh": rng.standard_normal((H, H)) * 0.01,
        "Why": rng.standard_normal((V, H)) * 0.01,
    }
    for k, v in expected.items():
        assert np.array_equal(tr.model.params[k], v), k
    assert tr.model.params["bh"].size == H and not tr.model.params["bh"].any()
    assert tr.model.params["by"].size == V and not tr.model.params["by"].any()
    assert tr.smooth_loss == pytest.approx(-math.log(1.0 / V) * 25, rel=1e-15)
    assert tr.iteration == 0 and tr.pointer == 0


def test_params_are_live_arrays():
    tr = Trainer(SHORT, TrainConfig(hidden_size=8, seq_length=10))
    tr.model.params["Why"][...] = 0.0
    tr.model.params["by"][...] = 0.0
    probs = tr.probe("et").probs
    np.testing.assert_allclose(probs, 1.0 / tr.vocab.size, rtol=1e-14)  # all-zero output layer: uniform
    tr.model.params["by"] = np.arange(tr.vocab.size, dtype=float)       # assignment copies into the model
    assert tr.probe("e").probs[0].argmax() == tr.vocab.size - 1


# ---- exactness against the oracle ----------------------------------------------------------------

@pytest.mark.parametrize("text", [LONG, SHORT], ids=["4KB", "80chars-wrapping"])
def test_300_iterations_at_lr_001_match_the_oracle(text):
    tr, naive, engine, oracle = run_both(text, 300, learning_rate=0.01)
    assert engine.shape == (300,)
    assert np.max(np.abs(engine - oracle)) < 1e-9
    assert tr.smooth_loss == pytest.approx(naive.smooth_loss, abs=1e-9)
    assert_params_close(tr, naive, atol=1e-10)
    assert tr.iteration == 300 and tr.pointer == naive.p
    np.testing.assert_allclose(tr.state.ravel(), naive.hprev.ravel(), rtol=0, atol=1e-10)
    # The loss really moved (the test compares training, not two flat lines).
    assert engine[-20:].mean() < engine[:20].mean() - 1.0


def test_short_text_wraps_many_times():
    tr, naive, engine, oracle = run_both(SHORT, 30, learning_rate=0.01)
    # 80 chars, T=25: windows at p = 0, 25, 50, then 75 + 26 >= 80 resets to 0.
    pointers = []
    t2 = Trainer(SHORT, TrainConfig(sample_every=0, learning_rate=0.01))
    for _ in range(9):
        t2.step(1)
        pointers.append(t2.pointer)
    assert pointers == [25, 50, 75] * 3
    assert np.max(np.abs(engine - oracle)) < 1e-9


def test_first_iterations_at_lr_01_match_the_oracle():
    # At lr 0.1 training is chaotic (last-bit differences grow), so only the start is comparable.
    tr, naive, engine, oracle = run_both(LONG, 5, learning_rate=0.1)
    assert np.max(np.abs(engine - oracle)) < 1e-9
    assert_params_close(tr, naive, atol=1e-10)


@pytest.mark.parametrize("clip", [None, 0])
def test_clipping_off_matches_the_unclipped_oracle(clip):
    """hidden 16 / seq 10 with weights large enough that clipping at 5 would change the run
    (normal(0, 0.4); at 0.5 the run is chaotic at lr 0.01 and last-bit differences grow after ~35 iterations)."""
    tr = Trainer(LONG, TrainConfig(hidden_size=16, seq_length=10, learning_rate=0.01, clip=clip, sample_every=0))
    rng = np.random.default_rng(3)
    for k in tr.model.params:
        tr.model.params[k] = rng.standard_normal(tr.model.params[k].shape) * 0.4
    naive = naive_from_trainer(tr, clip=None)
    clipped = naive_from_trainer(tr, clip=5.0)
    engine = tr.step(300)
    oracle = np.array([naive.train_step() for _ in range(300)])
    oracle_clipped = np.array([clipped.train_step() for _ in range(300)])
    assert np.max(np.abs(engine - oracle)) < 1e-9
    assert_params_close(tr, naive, atol=1e-10)
    assert np.max(np.abs(oracle_clipped - oracle)) > 1e-3  # clipping would have mattered


def test_clipping_on_matches_the_clipped_oracle_with_large_gradients():
    tr = Trainer(LONG, TrainConfig(hidden_size=16, seq_length=10, learning_rate=0.01, clip=5.0, sample_every=0))
    rng = np.random.default_rng(3)
    for k in tr.model.params:
        tr.model.params[k] = rng.standard_normal(tr.model.params[k].shape) * 0.4
    naive = naive_from_trainer(tr)
    engine = tr.step(300)
    oracle = np.array([naive.train_step() for _ in range(300)])
    assert np.max(np.abs(engine - oracle)) < 1e-9
    assert_params_close(tr, naive, atol=1e-10)


def test_step_in_chunks_equals_one_call():
    a = Trainer(SHORT, TrainConfig(hidden_size=12, seq_length=10, sample_every=0))
    b = Trainer(SHORT, TrainConfig(hidden_size=12, seq_length=10, sample_every=0))
    la = a.step(50)
    lb = np.concatenate([b.step(1), b.step(0), b.step(19), b.step(30)])
    assert np.array_equal(la, lb)
    assert np.array_equal(a.model.flat, b.model.flat)
    assert a.smooth_loss == b.smooth_loss
    with pytest.raises(ValueError, match="whole number"):
        a.step(-1)


# ---- divergence ----------------------------------------------------------------------------------

DIVERGE = dict(hidden_size=32, seq_length=25, optimizer="sgd", learning_rate=100.0, clip=None, sample_every=0)


def test_sgd_lr_100_without_clipping_diverges_and_keeps_the_last_finite_state():
    """Finding: plain SGD at lr 100, clip off, hits a non-finite loss after 2 iterations (a target's
    probability underflows to 0); the failing iteration must leave no trace."""
    text = make_text(3000, 40, seed=5)
    tr = Trainer(text, TrainConfig(**DIVERGE))
    with pytest.raises(DivergenceError) as info:
        tr.step(500)
    done = tr.iteration
    assert 1 <= done < 500
    msg = str(info.value)
    assert f"iteration {done + 1}" in msg and re.search(r"learning rate|Reset", msg)
    assert np.all(np.isfinite(tr.model.flat)) and math.isfinite(tr.smooth_loss)

    twin = Trainer(text, TrainConfig(**DIVERGE))
    for _ in range(done):   # one by one, up to the iteration before the failing one
        twin.step(1)
    before = snapshot(twin)
    assert_same(snapshot(tr), before)
    assert len(tr.history) == done
    with pytest.raises(DivergenceError):
        twin.step(1)        # the same iteration fails the same way ...
    assert_same(snapshot(twin), before)  # ... and leaves the same state


def test_overflowing_update_is_refused_and_training_continues_after_lowering_the_lr():
    text = make_text(3000, 40, seed=5)
    cfg = dict(hidden_size=24, seq_length=20, optimizer="sgd", learning_rate=0.1, clip=None, sample_every=0)
    tr, twin = Trainer(text, TrainConfig(**cfg)), Trainer(text, TrainConfig(**cfg))
    tr.step(50)
    twin.step(50)
    tr.learning_rate = 1e308          # -lr * g overflows to inf for any |g| > 1.8
    with pytest.raises(DivergenceError, match="iteration 51"):
        tr.step(10)
    assert_same({**snapshot(tr), "config": twin.config}, snapshot(twin))  # all but the learning rate just set
    tr.apply_live(learning_rate=0.1)
    # Bit for bit the run that never tried the huge learning rate.
    assert np.array_equal(tr.step(30), twin.step(30))
    assert_same(snapshot(tr), snapshot(twin))


# ---- loss history --------------------------------------------------------------------------------

def test_history_compaction_bounds_rows_and_keeps_the_last_iteration():
    rng = np.random.default_rng(0)
    n, cap = 10_000, 64
    its = np.arange(1, n + 1)
    loss = 50 - 20 * its / n + rng.normal(0, 2, n)   # a falling, noisy curve
    smooth = np.cumsum(loss) / its
    h, one_by_one = LossHistory(cap), LossHistory(cap)
    for start in range(0, n, 37):                    # in uneven chunks, like Train clicks
        sl = slice(start, start + 37)
        h.extend(its[sl], loss[sl], smooth[sl])
        assert len(h) <= cap and h.iterations[-1] == its[sl][-1]
    for i in range(n):
        one_by_one.extend(its[i : i + 1], loss[i : i + 1], smooth[i : i + 1])
    assert h.iterations[-1] == n and h.smooth[-1] == smooth[-1]
    assert h.compactions > 0 and h.nbytes == cap * 24
    # Uniform resolution: every row but the last (still filling) covers `stride` iterations,
    # so the run's start is still at the start of the curve.
    spans = np.diff(np.concatenate([[0], h.iterations]))
    assert np.all(spans[:-1] == h.stride) and 0 < spans[-1] <= h.stride
    assert len(h) >= cap // 2
    # Each row is the mean of the raw losses it stands for, and its smooth loss is the span's last.
    for a, b, value, sm in zip(np.concatenate([[0], h.iterations[:-1]]), h.iterations, h.loss, h.smooth):
        assert value == pytest.approx(loss[a:b].mean(), rel=1e-12)
        assert sm == smooth[b - 1]
    assert np.average(h.loss, weights=spans) == pytest.approx(loss.mean(), rel=1e-12)
    # How the iterations arrived (one call or one at a time) does not change a bit.
    for x, y in zip(h.state().values(), one_by_one.state().values()):
        assert np.array_equal(x, y)


def test_history_round_trips_with_a_row_still_filling():
    h = LossHistory(8)
    h.extend(np.arange(1, 20), np.arange(1.0, 20.0), np.arange(1.0, 20.0))   # stride 4 now, 3 in the open row
    assert h.stride == 4 and list(h.iterations) == [4, 8, 12, 16, 19]
    assert list(h.loss) == [2.5, 6.5, 10.5, 14.5, 18.0]
    back = LossHistory.from_state(h.state())
    more = (np.arange(20, 31), np.linspace(0.1, 3.0, 11), np.linspace(5, 6, 11))
    h.extend(*more)
    back.extend(*more)
    for x, y in zip(h.state().values(), back.state().values()):
        assert np.array_equal(x, y)


def test_history_single_compaction_is_exact_pair_means():
    h = LossHistory(8)
    loss = np.arange(1.0, 10.0)                       # 9 points into a cap of 8: one compaction
    h.extend(np.arange(1, 10), loss, loss * 10)
    assert list(h.iterations) == [2, 4, 6, 8, 9]
    assert list(h.loss) == [1.5, 3.5, 5.5, 7.5, 9.0]
    assert list(h.smooth) == [20, 40, 60, 80, 90]
    with pytest.raises(ValueError):
        LossHistory(5)


def test_trainer_history_matches_returned_losses():
    tr = Trainer(SHORT, TrainConfig(hidden_size=8, seq_length=10, sample_every=0))
    a, b = tr.step(7), tr.step(5)
    assert list(tr.history.iterations) == list(range(1, 13))
    assert np.array_equal(tr.history.loss, np.concatenate([a, b]))
    assert tr.history.smooth[-1] == tr.smooth_loss


def test_samples_recorded_while_training():
    text = make_text(5000, 30, seed=4)
    tr = Trainer(text, TrainConfig(hidden_size=16, seq_length=25, sample_every=1000))
    tr.step(2000)
    assert [i for i, _ in tr.samples] == [100, 300, 500, 1000, 2000]
    for _, s in tr.samples:
        assert len(s) == 201 and s[0] in tr.vocab.chars and set(s) <= set(tr.vocab.chars)
    assert len({s for _, s in tr.samples}) == 5
    none = Trainer(text, TrainConfig(hidden_size=8, sample_every=0))
    none.step(300)
    assert none.samples == []
