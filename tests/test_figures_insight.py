"""ui.figures.insight: trace types, shapes, highlights and HTML escaping of the insight views."""
from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer
from rnn_core import analysis as A
from rnn_core.cells import CELLS
from ui.figures.insight import (
    clipped_share_figure,
    microscope_figure,
    neuron_strip_html,
    sample_html,
    surprise_strip_html,
    unit_ranking_figure,
)

TEXT = 'He said "a<b & c"\n(ok) [x]\n' * 6


def _titles(snippet: str) -> list[str]:
    """The hover titles, unescaped (the attributes themselves hold no raw quote or '<')."""
    raw = re.findall(r'title="([^"]*)"', snippet)
    assert all("<" not in t and "'" not in t for t in raw)
    return [html.unescape(t) for t in raw]


def test_neuron_strip_colors_by_the_chosen_unit_on_a_fixed_scale():
    hidden = np.zeros((4, 3))
    hidden[:, 1] = [-1.0, 0.0, 1.0, 0.5]
    snippet = neuron_strip_html('a<"b', hidden, 1)
    assert snippet.count("<span") == 4
    assert re.findall(r"background:(#[0-9a-f]{6})", snippet)[:3] == ["#2166ac", "#ffffff", "#d62728"]
    titles = _titles(snippet)
    assert titles[0] == "a → unit 1 = -1.000" and titles[2] == '" → unit 1 = +1.000'
    assert "&lt;" in snippet and "<\"" not in snippet
    wide = neuron_strip_html('a<"b', hidden * 4, 1, scale=4.0)
    assert re.findall(r"background:(#[0-9a-f]{6})", wide)[:3] == ["#2166ac", "#ffffff", "#d62728"]
    with pytest.raises(ValueError, match="from 0 to 2"):
        neuron_strip_html("abcd", hidden, 3)
    with pytest.raises(ValueError):
        neuron_strip_html("abc", hidden, 0)


def test_unit_ranking_figure_bars_carry_the_unit_for_click_selection():
    ranking = [("inside quotes", 3, 0.93), ("inside quotes", 7, -0.41), ("uppercase", 0, 0.2)]
    fig = unit_ranking_figure(ranking)
    (bar,) = fig.data
    assert bar.type == "bar" and bar.orientation == "h"
    assert list(bar.y) == ["inside quotes · unit 3", "inside quotes · unit 7", "uppercase · unit 0"]
    assert list(bar.customdata) == [3, 7, 0]
    assert np.allclose(bar.x, [0.93, -0.41, 0.2], atol=1e-6)
    assert bar.marker.color[0] != bar.marker.color[1]   # sign shows as color
    assert fig.layout.yaxis.autorange == "reversed"
    empty = unit_ranking_figure([])
    assert len(empty.data[0].y) == 0 and "No feature varies" in empty.layout.annotations[0].text
    assert fig.layout.hovermode is None and unit_ranking_figure(ranking, hovermode="y").layout.hovermode == "y"


def test_surprise_strip_from_a_real_probe_colors_and_titles_every_char():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=10))
    tr.step(30)
    text = TEXT[:30]
    probe = tr.probe(text)
    loss, guesses = A.surprise(probe, tr.vocab.chars)
    snippet = surprise_strip_html(text, loss, guesses)
    assert snippet.count("<span") == 30 and "\n" not in snippet
    titles = _titles(snippet)
    assert titles[0].startswith("first character")
    # position 8 is the opening quote: title names it (escaped), its p, loss and the top-3 guesses
    p = float(np.exp(-loss[7]))
    assert titles[8].startswith(f"next: '\"' (p={p:.3f}, loss {loss[7]:.2f} nats) · guesses: ")
    assert titles[8].split("guesses: ")[1].count(", ") == 2  # three guesses
    bgs = re.findall(r'<span style="background:(#[0-9a-f]{6})', snippet)
    assert len(bgs) == 29                     # every char but the first is colored
    worst = int(np.argmax(loss)) + 1
    assert "background:#e6550d" in re.findall(r"<span[^>]*>", snippet)[worst]  # the largest loss is full color
    assert "&lt;" in snippet and "&amp;" in snippet


def test_surprise_strip_fixed_vmax_and_shape_checks():
    loss = np.array([0.0, 1.0])
    guesses = [[("a", 0.5)], [("b", 0.4)]]
    fixed = surprise_strip_html("xyz", loss, guesses, vmax=4.0)
    assert "background:#e6550d" not in fixed      # 1 nat of 4 is a light shade
    assert _titles(fixed)[2] == "next: 'z' (p=0.368, loss 1.00 nats) · guesses: b 0.40"
    with pytest.raises(ValueError):
        surprise_strip_html("xy", loss, guesses)


def test_clipped_share_figure():
    fig = clipped_share_figure({"Wxh": 0.0, "Whh": 0.25, "by": 1.0}, {"Wxh": 1.5, "Whh": 30.0, "by": 7.0}, clip=5.0)
    (bar,) = fig.data
    assert bar.type == "bar" and list(bar.x) == ["Wxh", "Whh", "by"]
    assert np.allclose(bar.y, [0, 25, 100])
    assert list(bar.customdata) == ["1.5", "30", "7"]
    assert list(bar.text) == ["0%", "25%", "100%"]
    assert fig.layout.title.text == "gradient entries clipped at ±5"
    assert clipped_share_figure({"Wxh": 0.0}, clip=None).layout.title.text == "gradient clipping is off"


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_microscope_figure_rows_and_highlights(cell):
    from rnn_core.cells import CELLS
    if cell not in CELLS:
        pytest.skip(f"{cell} cell not available")
    tr = Trainer(TEXT, TrainConfig(cell=cell, hidden_size=6, seq_length=10))
    m = A.microscope(tr, 8)  # iteration 0: the window starts at 0, so input '"', target 'a'
    fig = microscope_figure(m, tr.vocab.chars)
    types = [t.type for t in fig.data]
    assert types == ["bar", "bar", "scatter", "bar", "bar", "bar"]
    V = tr.vocab.size
    onehot, h, h_prev, scores, probs, dscores = fig.data
    assert len(onehot.x) == len(scores.x) == len(probs.x) == len(dscores.x) == V
    assert len(h.x) == len(h_prev.x) == 6
    assert np.allclose(probs.y, m["probs"], rtol=1e-6) and np.allclose(dscores.y, m["dscores"], rtol=1e-5, atol=1e-7)
    red = [i for i, c in enumerate(probs.marker.color) if c != probs.marker.color[(m["target_id"] + 1) % V]]
    assert red == [m["target_id"]] and dscores.marker.color[m["target_id"]] == probs.marker.color[m["target_id"]]
    assert [i for i, c in enumerate(onehot.marker.color) if c != onehot.marker.color[(m["input_id"] + 1) % V]] == [m["input_id"]]
    title = fig.layout.title.text
    assert "input '&quot;' → target 'a'" in title
    assert f"{m['p_before']:.4f} → {m['p_after']:.4f}" in title and CELLS[cell].equation in title
    assert [a.text for a in fig.layout.annotations][:2] == ["x: one-hot input", "h_prev (dots) → h (bars), per hidden unit"]
    json.loads(fig.to_json())  # serializable as sent to the browser
    with pytest.raises(ValueError):
        microscope_figure(m, tr.vocab.chars[:-1])


def test_sample_html_escapes_and_keeps_lines():
    snippet = sample_html(12000, 'say "<hi>" &\nbye')
    assert "sample at iteration 12,000" in snippet
    assert "&lt;hi&gt;" in snippet and "&amp;" in snippet and "<br>bye" in snippet
    assert "\n" not in snippet
