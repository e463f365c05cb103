"""The loss chart's bold line: a debiased exponential moving average of the raw loss (TensorBoard's smoothing)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.corpora import read_corpus
from rnn_core import TrainConfig, Trainer
from ui.figures.loss import DEFAULT_SMOOTHING, debiased_ema, loss_figure, run_curves
from ui.session.widgets import WIDGET_DEFAULTS


def tensorboard(values, w):
    """TensorBoard's loop, written out: last = w·last + (1-w)·x, shown as last / (1 - w**n)."""
    last, n, out = 0.0, 0, []
    for x in values:
        if not math.isfinite(x):
            out.append(x)
            continue
        n += 1
        last = w * last + (1 - w) * x
        out.append(last / (1 - w ** n))
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 200), min_size=1, max_size=3000), st.floats(0, 0.999))
def test_matches_the_plain_loop(values, w):
    assert np.allclose(debiased_ema(values, w), tensorboard(values, w), rtol=1e-9, atol=1e-9)


def test_a_long_series_in_blocks_matches_the_loop():
    x = 40 + 10 * np.random.default_rng(0).standard_normal(20_000)  # many blocks for every weight below
    for w in (0.3, 0.9, 0.99, 0.999):
        assert np.allclose(debiased_ema(x, w), tensorboard(x, w), rtol=1e-10)


def test_starts_on_the_first_point_keeps_constants_and_zero_is_raw():
    x = np.array([55.0, 30.0, 12.0, 4.0])
    assert debiased_ema(x, 0.99)[0] == pytest.approx(55.0, rel=1e-12)  # no creeping up from 0 (or down from a guess)
    assert np.array_equal(debiased_ema(x, 0.0), x)
    assert np.allclose(debiased_ema(np.full(500, 7.5), 0.95), 7.5)
    y = debiased_ema(np.array([1.0, np.nan, 3.0]), 0.5)  # a gap stays a gap and is left out of the average
    assert math.isnan(y[1]) and y[2] == pytest.approx((0.5 * 1 + 3) / 1.5)
    for bad in (1.0, -0.1, 2):
        with pytest.raises(ValueError, match="Smoothing"):
            debiased_ema(x, bad)


def test_on_hello_world_the_bold_line_follows_the_raw_loss_and_min_char_rnns_does_not():
    """The issue's case: min-char-rnn's smooth loss still reads ~40 nats when the model already writes the text."""
    tr = Trainer(read_corpus("hello world"), TrainConfig())
    tr.step(400)
    h = tr.history
    bold = debiased_ema(h.loss, DEFAULT_SMOOTHING)
    raw_now = float(np.mean(h.loss[-50:]))
    assert raw_now < 1.0                             # the model has the text by heart...
    assert h.smooth[-1] > 30                         # ...min-char-rnn's average still says it is far off,
    assert abs(bold[-1] - raw_now) < 0.5             # the bold line says where the model is.
    at_150 = slice(140, 150)                         # and it got there within 150 iterations:
    assert float(np.mean(bold[at_150])) < float(np.mean(h.loss[at_150])) + 1.0 < 2.0
    assert float(np.mean(h.smooth[at_150])) > 45


def test_the_chart_draws_it_and_the_page_default_agrees():
    assert WIDGET_DEFAULTS["loss_smoothing"] == DEFAULT_SMOOTHING
    tr = Trainer(read_corpus("hello world"), TrainConfig(hidden_size=16))
    tr.step(120)
    [series] = run_curves([tr.history], ["training loss"], smoothing=0.8)
    assert np.allclose(series.smooth, debiased_ema(tr.history.loss, 0.8))
    fig = loss_figure([series], seq_length=25, vocab_size=tr.vocab.size)
    bold = next(t for t in fig.data if t.name == "training loss")
    assert np.allclose(bold.y, debiased_ema(tr.history.loss, 0.8), rtol=1e-6)
    assert "smoothed loss" in bold.hovertemplate
