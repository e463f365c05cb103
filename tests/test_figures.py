"""Pure figure builders: values in, Plotly figures out (no Streamlit)."""
from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from rnn_core.text import char_label
from ui.figures.loss import LossSeries, downsample, loss_figure
from ui.figures.probe import gradient_norms_figure, hidden_heatmap, prob_bars
from ui.figures.strips import char_strip_html


def _run(n: int, name: str = "run", start: int = 1) -> LossSeries:
    rng = np.random.default_rng(0)
    its = np.arange(start, start + n)
    loss = 100.0 * np.exp(-its / max(n, 1)) + rng.random(n)
    smooth = np.maximum.accumulate(loss[::-1])[::-1] if n else loss
    return LossSeries(name, its, loss, smooth)


def _trace(fig: go.Figure, name: str):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, [t.name for t in fig.data]
    return matches[0]


# --- downsample ---------------------------------------------------------------------------------------

def test_downsample_short_series_is_returned_unchanged():
    x, y = np.arange(10), np.linspace(0, 1, 10)
    dx, dy = downsample(x, y, 10)
    assert dx is x and dy is y


@pytest.mark.parametrize("max_points", [2, 3, 4, 5, 100, 1500])
def test_downsample_bounds_points_keeps_ends_and_a_spike(max_points):
    n = 1_000_000
    x = np.arange(n)
    y = np.zeros(n)
    y[123_457] = 9.0  # one spike in a million points
    y[876_543] = -4.0  # one dip
    dx, dy = downsample(x, y, max_points)
    assert len(dx) == len(dy) <= max_points
    assert dx[0] == 0 and dx[-1] == n - 1
    assert np.all(np.diff(dx) > 0)  # x order, no duplicates
    assert np.array_equal(dy, y[dx])  # every kept point is a real (x, y) pair
    if max_points >= 4:
        assert 9.0 in dy and -4.0 in dy


def test_downsample_keeps_min_and_max_of_each_bucket():
    x = np.arange(1002)
    y = np.sin(x / 7.0)
    dx, dy = downsample(x, y, 12)  # 5 buckets of 200 interior points
    assert len(dx) == 12
    inner = y[1:-1].reshape(5, 200)
    assert sorted(dy[1:-1]) == sorted(np.concatenate([inner.min(axis=1), inner.max(axis=1)]))


def test_downsample_nan_bucket_becomes_gap_and_nan_does_not_hide_spike():
    y = np.ones(10_001)
    y[100:200] = np.nan
    y[150] = 5.0  # spike among NaNs must win over them
    y[4000:7000] = np.nan  # covers at least one whole bucket
    dx, dy = downsample(np.arange(len(y)), y, 22)
    assert 5.0 in dy
    assert np.isnan(dy).any()


def test_downsample_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        downsample(np.arange(5), np.arange(6), 3)


# --- loss_figure --------------------------------------------------------------------------------------

def test_loss_figure_traces_and_axes():
    fig = loss_figure([_run(500, "a"), _run(300, "b")], seq_length=25, vocab_size=65)
    names = [t.name for t in fig.data]
    assert names == ["a (raw)", "a", "b (raw)", "b", "uniform guess"]
    assert all(t.type == "scatter" for t in fig.data)
    raw, smooth = _trace(fig, "a (raw)"), _trace(fig, "a")
    assert raw.legendgroup == smooth.legendgroup == "a"
    assert raw.line.color == smooth.line.color
    assert raw.opacity < 1 and raw.line.width < smooth.line.width
    assert _trace(fig, "b").line.color != smooth.line.color
    assert fig.layout.xaxis.title.text == "iteration"
    assert fig.layout.yaxis.title.text == "loss (nats per sequence of 25 chars)"
    assert fig.layout.height is not None
    assert "smoothed loss" in smooth.hovertemplate and "nats/seq" in smooth.hovertemplate
    assert smooth.y.dtype == np.float32


def test_loss_figure_legend_keeps_the_runs_order():
    fig = loss_figure([_run(50, "b"), _run(50, "a"), _run(50, "c")], seq_length=25, vocab_size=65,
                      legend_names=["a", "b", "c"])
    ranks = {t.name: t.legendrank for t in fig.data}
    assert ranks["a"] == ranks["a (raw)"] == 100 and ranks["b"] == 101 and ranks["c"] == 102
    assert ranks["uniform guess"] is None
    alone = loss_figure([_run(50, "a")], seq_length=25, vocab_size=65, legend_names=["a"])
    assert all(t.legendrank is None for t in alone.data)  # one run: plotly's own order


def test_loss_figure_uniform_line_in_both_units():
    nats = _trace(loss_figure([_run(50)], seq_length=25, vocab_size=65), "uniform guess")
    assert nats.line.dash == "dash"
    assert np.allclose(nats.y, 25 * math.log(65), rtol=1e-6)
    bits_fig = loss_figure([_run(50)], seq_length=25, vocab_size=65, unit="bits")
    bits = _trace(bits_fig, "uniform guess")
    assert np.allclose(bits.y, math.log(65) / math.log(2), rtol=1e-6)  # log2(V) bits per char
    assert bits_fig.layout.yaxis.title.text == "loss (bits per character)"
    assert nats.x[0] == 1 and nats.x[-1] == 50  # spans the run


def test_loss_figure_converts_run_losses_to_bits_per_char():
    run = _run(40)
    fig = loss_figure([run], seq_length=25, vocab_size=65, unit="bits")
    assert np.allclose(_trace(fig, "run").y, run.smooth / (25 * math.log(2)), rtol=1e-6)
    assert "bits/char" in _trace(fig, "run").hovertemplate


def test_loss_figure_baselines_and_validation_are_per_char_inputs():
    val_its, val_loss = np.array([10, 20, 30]), np.array([3.0, 2.5, 2.0])
    kw = dict(seq_length=25, vocab_size=65, baselines={"unigram": 2.9, "bigram": 2.1},
              validation=[("held-out", val_its, val_loss)])
    nats = loss_figure([_run(40)], **kw)
    assert np.allclose(_trace(nats, "unigram").y, 2.9 * 25, rtol=1e-6)
    assert np.allclose(_trace(nats, "bigram").y, 2.1 * 25, rtol=1e-6)
    assert _trace(nats, "unigram").line.dash != "solid"
    val = _trace(nats, "held-out")
    assert val.mode == "lines+markers"
    assert np.allclose(val.y, val_loss * 25, rtol=1e-6) and list(val.x) == [10, 20, 30]
    bits = loss_figure([_run(40)], unit="bits", **kw)
    assert np.allclose(_trace(bits, "unigram").y, 2.9 / math.log(2), rtol=1e-6)
    assert np.allclose(_trace(bits, "held-out").y, val_loss / math.log(2), rtol=1e-6)


def test_loss_figure_million_iterations_is_bounded_and_small():
    n = 1_000_000
    run = _run(n)
    run.loss[654_321] = 1e4  # a spike the raw trace must still show
    fig = loss_figure([run], seq_length=25, vocab_size=65, max_points=1500,
                      validation=[("val", np.arange(0, n, 100), np.full(n // 100, 2.0))],
                      baselines={"unigram": 2.9})
    for t in fig.data:
        assert len(t.x) <= 1500
    raw = _trace(fig, "run (raw)")
    assert raw.x[0] == 1 and raw.x[-1] == n
    assert raw.y.max() == pytest.approx(1e4)
    assert len(fig.to_json()) < 100_000


def test_loss_figure_without_history_says_click_train():
    fig = loss_figure([_run(0)], seq_length=25, vocab_size=10)
    assert [t.name for t in fig.data] == ["uniform guess"]
    assert [a.text for a in fig.layout.annotations] == ["Click Train to start"]
    assert np.allclose(fig.data[0].y, 25 * math.log(10), rtol=1e-6)
    fig.to_json()  # valid
    assert loss_figure([], seq_length=5, vocab_size=3).layout.annotations[0].text == "Click Train to start"


def test_loss_figure_sample_markers_show_samples_on_hover():
    run = _run(5000)
    samples = [(i, f"text <{i}>\nline") for i in range(0, 5000, 100)]
    fig = loss_figure([run], seq_length=25, vocab_size=65, samples=samples)
    markers = _trace(fig, "samples")
    assert markers.mode == "markers" and len(markers.x) <= 40
    assert markers.x[-1] == 4900  # the latest sample is always kept
    assert "&lt;4900&gt;⏎<br>line" in markers.customdata[-1]


def test_loss_figure_rejects_unknown_unit():
    with pytest.raises(ValueError, match="unit"):
        loss_figure([_run(5)], seq_length=25, vocab_size=65, unit="furlongs")


# --- hidden_heatmap -----------------------------------------------------------------------------------

def test_hidden_heatmap_layout_colors_and_labels():
    text = "hi there\n\tok"
    T, H = len(text), 7
    hidden = np.tanh(np.random.default_rng(1).normal(size=(T, H)))
    fig = hidden_heatmap(hidden, text)
    (hm,) = fig.data
    assert hm.type == "heatmap"
    assert hm.z.shape == (H, T) and hm.z.dtype == np.float32
    assert np.allclose(hm.z, hidden.T, atol=1e-6)
    assert (hm.zmin, hm.zmax, hm.zmid) == (-1.0, 1.0, 0.0)
    assert hm.reversescale is True  # RdBu reversed: positive red, negative blue
    assert hm.colorscale[0][1] == "rgb(103,0,31)"  # RdBu starts dark red; reversed, red is the top
    assert list(hm.y) == list(range(H))
    assert list(fig.layout.xaxis.ticktext) == [char_label(c) for c in text]
    assert list(fig.layout.xaxis.tickvals) == list(hm.x)
    assert len(set(hm.x)) == T  # repeated chars still get their own column
    assert hm.x[1] == "'i' at position 1" and hm.x[2] == "'␣ space' at position 2"
    assert "unit %{y}" in hm.hovertemplate and "value %{z:.3f}" in hm.hovertemplate
    assert fig.layout.height == hidden_heatmap(np.zeros((T, 200)), text).layout.height


def test_hidden_heatmap_custom_range_and_bad_shapes():
    fig = hidden_heatmap(np.zeros((3, 2)), "abc", zmin=-2.0, zmax=2.0, title="layer 1")
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-2.0, 2.0)
    assert fig.layout.title.text == "layer 1"
    with pytest.raises(ValueError):
        hidden_heatmap(np.zeros((4, 2)), "abc")
    with pytest.raises(ValueError):
        hidden_heatmap(np.zeros(3), "abc")


# --- prob_bars ----------------------------------------------------------------------------------------

CHARS = list(" abcdefghij\n")


def _probs() -> np.ndarray:
    p = np.arange(1, len(CHARS) + 1, dtype=float)[::-1] ** 2  # ' ' most likely, '\n' least
    return p / p.sum()


def test_hidden_heatmap_frame_and_tick_overrides():
    text = "ab c"
    fig = hidden_heatmap(np.zeros((4, 3)), text, ticktext=["a", "b", "␣", "c"], tickangle=-90, frame=2)
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "␣", "c"] and fig.layout.xaxis.tickangle == -90
    (frame,) = fig.layout.shapes
    assert (frame.type, frame.xref, frame.yref) == ("rect", "x", "y domain")
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (1.5, 2.5, 0, 1)  # around column 2 only, full height
    assert frame.line.color == "#ffc400" and frame.fillcolor == "rgba(0,0,0,0)"
    assert hidden_heatmap(np.zeros((4, 3)), text).layout.shapes == ()


def test_prob_bars_sorted_top_k_with_true_char_highlighted():
    probs = _probs()
    fig = prob_bars(probs, CHARS, true_next="b", top_k=5)
    (bar,) = fig.data
    assert bar.type == "bar"
    assert list(bar.x) == ["␣ space", "a", "b", "c", "d"]
    assert np.all(np.diff(bar.y) <= 0)
    assert np.allclose(bar.y, np.sort(probs)[::-1][:5], atol=1e-7)
    colors = list(bar.marker.color)
    assert colors[2] != colors[0] and len(set(colors[:2] + colors[3:])) == 1
    assert list(fig.layout.yaxis.range) == [0, 1]
    assert fig.layout.yaxis.title.text == "probability"
    assert "p = %{y:.3f}" in bar.hovertemplate


def test_prob_bars_appends_true_char_outside_top_k():
    probs = _probs()
    fig = prob_bars(probs, CHARS, true_next="\n", top_k=3)
    (bar,) = fig.data
    assert list(bar.x) == ["␣ space", "a", "b", "⏎ newline"]
    assert bar.y[-1] == pytest.approx(probs[-1])
    assert bar.marker.color[-1] != bar.marker.color[0]


def test_prob_bars_without_true_char_and_bad_input():
    (bar,) = prob_bars(_probs(), CHARS, top_k=20).data
    assert len(bar.x) == len(CHARS) and len(set(bar.marker.color)) == 1
    with pytest.raises(ValueError):
        prob_bars(np.ones(3) / 3, CHARS)


# --- gradient_norms_figure ----------------------------------------------------------------------------

def test_gradient_norms_log_scale_with_char_labels():
    norms = np.array([1e-6, 1e-4, 1e-2, 1.0, 3.0])
    fig = gradient_norms_figure(norms, "ab c\n")
    (bar,) = fig.data
    assert bar.type == "bar" and list(bar.x) == [0, 1, 2, 3, 4]
    assert np.allclose(bar.y, norms, rtol=1e-6)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text == "‖dL/dh_t‖ (log scale)"
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "␣ space", "c", "⏎ newline"]
    plain = gradient_norms_figure(norms)
    assert plain.layout.xaxis.ticktext is None and plain.layout.yaxis.type == "log"
    titled = gradient_norms_figure(norms, "ab c\n", title="five steps", ticktext=list("ab␣c⏎"))
    assert titled.layout.title.text == "five steps" and titled.layout.margin.t == 40
    assert list(titled.layout.xaxis.ticktext) == list("ab␣c⏎") and titled.data[0].customdata[2] == "␣ space"


# --- char_strip_html ----------------------------------------------------------------------------------

def test_char_strip_escapes_and_has_one_span_per_char():
    text = 'a<b&c"\nd '
    html = char_strip_html(text, np.linspace(-1, 1, len(text)), vmin=-1, vmax=1)
    assert html.count("<span") == len(text)
    assert "&lt;" in html and "&amp;" in html and "<b" not in html.replace("<br>", "")
    assert "⏎</span><br>" in html
    assert "white-space:pre-wrap" in html and "monospace" in html
    assert "\n" not in html  # st.markdown would end the HTML block at a blank line


def test_char_strip_colors_and_titles():
    html = char_strip_html("abc", np.array([-1.0, 0.0, 1.0]), vmin=-1, vmax=1,
                           titles=["neg", 'say "hi"', "x<y"])
    bgs = re.findall(r"background:(#[0-9a-f]{6})", html)
    assert bgs == ["#2166ac", "#ffffff", "#d62728"]  # blue, white, red
    assert re.findall(r'title="([^"]*)"', html) == ["neg", "say &quot;hi&quot;", "x&lt;y"]
    seq = char_strip_html("ab", np.array([0.0, 5.0]), vmin=0, vmax=5, cmap="sequential")
    bgs = re.findall(r"background:(#[0-9a-f]{6})", seq)
    assert bgs[0] == "#ffffff" and bgs[1] != "#ffffff"
    assert 'title="5.000"' in seq  # the value is the default hover text


def test_char_strip_rejects_bad_input():
    with pytest.raises(ValueError):
        char_strip_html("abc", np.zeros(2), vmin=0, vmax=1)
    with pytest.raises(ValueError):
        char_strip_html("abc", np.zeros(3), vmin=0, vmax=1, cmap="rainbow")
