"""The divergence guard, and memory that stays bounded however long a run trains.

What diverges, measured on the prose corpus (see also bench/bench_memory.py):
- SGD, learning rate 100, clipping off: iteration 3 (H=16, T=10 and H=100, T=25) has loss inf,
  because after two huge updates some target character gets probability exactly 0. The kept model
  is finite but already dead: its forward pass fails on that window at any learning rate, so the
  error says `needs_reset` and points to Reset.
- SGD or momentum at learning rate 1e308: the very first update overflows to inf. The update is
  refused before it touches anything, the model stays healthy (`needs_reset` False), and training
  goes on once the learning rate is lower.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from rnn_core import DivergenceError, Trainer
from rnn_core.history import LossHistory
from tests.helpers_reliability import assert_same, small_trainer, snapshot


def _all_finite(tr: Trainer) -> bool:
    arrays = [tr.model.flat, tr.state, tr.history.loss, tr.history.smooth, *tr.optimizer.state.values()]
    return all(np.isfinite(a).all() for a in arrays) and np.isfinite(tr.smooth_loss)


# ---- the divergence guard -------------------------------------------------------------------

@pytest.mark.parametrize("size", [dict(hidden_size=16, seq_length=10), dict(hidden_size=100, seq_length=25)])
def test_sgd_at_lr_100_without_clipping_stops_at_the_last_finite_state(size):
    tr = small_trainer(optimizer="sgd", learning_rate=100.0, clip=None, **size)
    for _ in range(50):
        before = snapshot(tr)
        try:
            tr.step(1)
        except DivergenceError as err:
            error = err
            break
    else:
        pytest.fail("SGD at learning rate 100 without clipping did not diverge in 50 iterations")
    assert tr.iteration == 2                             # iteration 3 is the bad one
    assert_same(before, snapshot(tr))                    # params, optimizer, history, counters, state, samples
    assert len(tr.history) == tr.iteration and _all_finite(tr)
    message = str(error)
    assert "iteration 3" in message and "loss became inf" in message
    assert error.needs_reset and "Reset" in message and "learning rate" in message and "clipping" in message
    # The kept model is dead: no learning rate can train on from it, which is what needs_reset says.
    tr.learning_rate = 1e-6
    with pytest.raises(DivergenceError) as again:
        tr.step(1)
    assert again.value.needs_reset and tr.iteration == 2
    assert_same({**before, "config": tr.config}, snapshot(tr))


def test_divergence_inside_a_long_step_keeps_every_iteration_before_it():
    cfg = dict(optimizer="sgd", learning_rate=10.0, clip=None)
    tr, twin = small_trainer(**cfg), small_trainer(**cfg)
    with pytest.raises(DivergenceError):
        tr.step(500)
    done = tr.iteration
    assert 0 < done < 500
    for _ in range(done):                                # the same run, one iteration at a time
        twin.step(1)
    assert_same(snapshot(twin), snapshot(tr))
    assert list(tr.history.iterations) == list(range(1, done + 1))


def test_no_numpy_warning_escapes_a_diverging_step():
    tr = small_trainer(optimizer="sgd", learning_rate=100.0, clip=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # a RuntimeWarning would now be an exception
        with pytest.raises(DivergenceError):
            tr.step(50)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_an_overflowing_update_is_refused_and_training_continues_at_a_lower_rate(optimizer):
    tr = small_trainer(30, optimizer="adagrad")
    healthy_loss = tr.smooth_loss
    tr.apply_live(optimizer=optimizer, learning_rate=1e308, clip=None)
    before = snapshot(tr)
    with pytest.raises(DivergenceError) as info:
        tr.step(10)
    assert not info.value.needs_reset
    assert "iteration 31" in str(info.value) and "Lower the learning rate" in str(info.value)
    assert_same(before, snapshot(tr))
    assert _all_finite(tr)
    tr.apply_live(learning_rate=0.01, clip=5.0)
    losses = tr.step(40)
    assert tr.iteration == 70 and np.isfinite(losses).all() and _all_finite(tr)
    assert len(tr.history) == 70 and tr.smooth_loss < healthy_loss + 1.0


def test_divergence_on_the_first_iteration_leaves_a_fresh_run():
    tr = small_trainer(optimizer="sgd", learning_rate=1e308, clip=None)
    before = snapshot(tr)
    with pytest.raises(DivergenceError, match="iteration 1:"):
        tr.step(5)
    assert_same(before, snapshot(tr))
    assert len(tr.history) == 0 and tr.optimizer.t == 0
    tr.learning_rate = 0.1
    assert np.isfinite(tr.step(5)).all() and tr.iteration == 5


def test_huge_weights_written_into_the_model_are_caught():
    tr = small_trainer(20)
    shape = tr.model.params["Why"].shape
    tr.model.params["Why"] = np.random.default_rng(0).standard_normal(shape) * 1e300  # probs of 0 and 1
    before = snapshot(tr)
    with pytest.raises(DivergenceError) as info:
        tr.step(3)
    assert info.value.needs_reset and "iteration 21" in str(info.value)
    assert_same(before, snapshot(tr))
    assert issubclass(DivergenceError, FloatingPointError)


# ---- bounded memory -------------------------------------------------------------------------

def test_a_million_iterations_of_history_stay_within_the_default_cap():
    tr = small_trainer()
    history = tr.history
    cap, nbytes = history.cap, history.nbytes
    assert cap == 100_000 and nbytes == 3 * 8 * cap      # 2.4 MB, allocated once
    total, chunk = 1_000_000, 100                         # the app's ticks are tens to hundreds of iterations
    rng = np.random.default_rng(0)
    smooth = 100.0
    for start in range(1, total + 1, chunk):
        its = np.arange(start, start + chunk)
        loss = 100.0 * np.exp(-its / 2e5) + rng.random(chunk)
        smooth_arr = np.empty(chunk)
        for i, x in enumerate(loss):
            smooth = 0.999 * smooth + 0.001 * x
            smooth_arr[i] = smooth
        history.extend(its, loss, smooth_arr)
        assert len(history) <= cap
    assert history.nbytes == nbytes
    assert history.compactions >= 4
    assert history.iterations[-1] == total and history.smooth[-1] == smooth
    assert np.all(np.diff(history.iterations) > 0)
    assert 1 <= history.iterations[0] <= 2 ** history.compactions
    assert np.isfinite(history.loss).all() and 0 < history.loss.min() and history.loss.max() < 101


def test_history_of_real_training_is_bounded_and_ends_at_the_last_iteration():
    tr = Trainer(small_trainer().text, small_trainer().config, history_cap=64)
    nbytes = tr.history.nbytes
    for _ in range(10):
        tr.step(97)
        assert len(tr.history) <= 64 and tr.history.nbytes == nbytes
    assert tr.history.iterations[-1] == 970
    assert tr.history.smooth[-1] == tr.smooth_loss


def test_recorded_samples_are_capped():
    tr = small_trainer(sample_every=1)
    tr.SAMPLE_LENGTH = 5                                  # a short sample per iteration: fast
    for _ in range(5):
        tr.step(200)
        assert len(tr.samples) <= Trainer.MAX_SAMPLES
    its = [i for i, _ in tr.samples]
    assert its[0] == 1 and its[-1] == 1000                # the first kept, the latest present
    assert its == sorted(set(its))
    assert Trainer.MAX_SAMPLES // 2 <= len(tr.samples) <= Trainer.MAX_SAMPLES


def test_loss_history_refuses_a_bad_cap():
    for bad in (0, 3, 7, -2):
        with pytest.raises(ValueError, match="cap"):
            LossHistory(bad)
