"""Pure figure and HTML builders for the insight views: arrays in, Plotly figures or HTML out.

The numbers come from rnn_core.analysis; nothing here computes model quantities or imports
Streamlit. HTML snippets are escaped and contain no raw newline (safe for st.html/st.markdown).
"""
from __future__ import annotations

import copy
import functools
import html
import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnn_core.text import char_label

from .base import GRID_COLOR, REFERENCE_COLOR, TEXT_COLOR, axis, base_layout, f32
from .strips import char_strip_html

POS_COLOR = "#d62728"      # positive correlation / the target character
NEG_COLOR = "#2166ac"      # negative correlation
BAR_COLOR = "#9db4cf"
INPUT_COLOR = "#2ca02c"    # the input character of the microscope
CLIP_COLOR = "#e6550d"
_SAMPLE_BOX = ("font-family:monospace;white-space:pre-wrap;word-break:break-all;line-height:1.5;"
               "font-size:13px;color:#222;background:#f7f7f9;padding:8px 10px;border-radius:4px")


# --- neuron explorer ------------------------------------------------------------------------------

def neuron_strip_html(text: str, hidden: np.ndarray, unit: int, *, scale: float = 1.0, name: int | None = None) -> str:
    """The text with each character's background colored by one unit's activation after reading it.

    hidden (T, H): red for positive, blue for negative, white for 0, on a fixed [-scale, scale]
    range: 1 for hidden vectors (tanh, LSTM h), so strips of different units and iterations
    compare directly; pass a larger scale for an unbounded array such as the LSTM cell state.
    `name`: the unit's number in the model when `hidden` holds only some of its units (the worker sends one).
    """
    hidden = np.asarray(hidden, dtype=float)
    if hidden.ndim != 2 or hidden.shape[0] != len(text):
        raise ValueError(f"hidden must be (T, H) with one row per character; got {hidden.shape} for {len(text)} chars.")
    if not isinstance(unit, (int, np.integer)) or not 0 <= unit < hidden.shape[1]:
        raise ValueError(f"Pick a hidden unit from 0 to {hidden.shape[1] - 1}, not {unit!r}.")
    values = hidden[:, int(unit)]
    shown = unit if name is None else name
    titles = [f"{char_label(ch)} → unit {shown} = {v:+.3f}" for ch, v in zip(text, values)]
    scale = float(scale) if scale > 0 else 1.0
    return char_strip_html(text, values, vmin=-scale, vmax=scale, cmap="diverging", titles=titles)


def unit_ranking_figure(ranking: Sequence[tuple[str, int, float]], *, title: str = "",
                        hovermode: str | None = None) -> go.Figure:
    """Horizontal bars, one per (feature, unit, r) row of rnn_core.analysis.rank_units, top row first.

    Each bar's customdata is its unit number, so a click selection (`on_select`) names the unit.
    `hovermode` "y" hovers (and so clicks) by row, which finds short bars in a narrow column.
    """
    rows = list(ranking)
    labels = [f"{feat} · unit {unit}" for feat, unit, _ in rows]
    r = np.array([c for _, _, c in rows], dtype=float)
    bars = dict(
        type="bar",
        y=labels, x=f32(r), orientation="h", customdata=np.array([u for _, u, _ in rows], dtype=np.int32),
        marker=dict(color=[POS_COLOR if c >= 0 else NEG_COLOR for c in r]),
        text=[f"{c:+.2f}" for c in r], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}<br>correlation r = %{x:.3f}<extra>click to show this unit</extra>",
    )
    extra = {} if hovermode is None else dict(hovermode=hovermode)
    if not rows:
        extra["annotations"] = [dict(
            text="No feature varies in this text (no quotes, brackets, spaces or capitals).",
            x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(color=REFERENCE_COLOR))]
    layout = base_layout(max(160, 28 * len(rows) + 70), title=title,
                         xaxis=axis("correlation with the feature (Pearson r)", range=[-1.15, 1.15], zeroline=True),
                         yaxis=axis(autorange="reversed", type="category", tickfont=dict(size=11)), **extra)
    return go.Figure(data=[bars], layout=layout)


# --- surprise strip -------------------------------------------------------------------------------

def surprise_strip_html(text: str, loss: np.ndarray, guesses: Sequence[Sequence[tuple[str, float]]],
                        vmax: float | None = None) -> str:
    """The text with each character colored by how surprised the model was to see it.

    loss (T-1,): loss[t] = -log p(text[t+1]) in nats; guesses[t] = the model's top guesses
    [(char, p), ...] for that same character (rnn_core.analysis.surprise). The first character has
    no prediction and stays white. White is 0 nats, full orange-red is `vmax` (default: the
    largest loss shown); pass log V for a scale that stays fixed while the model trains.
    """
    loss = np.asarray(loss, dtype=float)
    T = len(text)
    if loss.shape != (max(T - 1, 0),) or len(guesses) != len(loss):
        raise ValueError(f"A {T}-character text needs {max(T - 1, 0)} losses and guesses; got {loss.shape} and {len(guesses)}.")
    if vmax is None:
        vmax = float(loss.max()) if loss.size else 1.0
    values = np.concatenate([[np.nan], loss]) if T else loss
    titles = ["first character: nothing to predict it from"] if T else []
    for t, (l, g) in enumerate(zip(loss, guesses)):
        ch = text[t + 1]
        shown = ", ".join(f"{char_label(c)} {p:.2f}" for c, p in g)
        titles.append(f"next: '{char_label(ch)}' (p={math.exp(-l):.3f}, loss {l:.2f} nats) · guesses: {shown}")
    return char_strip_html(text, values, vmin=0.0, vmax=max(float(vmax), 1e-9), cmap="sequential", titles=titles)


# --- gradient flow --------------------------------------------------------------------------------

def clipped_share_figure(clipped_share: Mapping[str, float], grad_norms: Mapping[str, float] | None = None,
                         clip: float | None = None) -> go.Figure:
    """Per parameter, the share of gradient entries clipping changed at this step (0 to 100 %).

    Near 100 % means the update is mostly the clip value: exploding gradients. The hover adds
    each parameter's gradient norm when `grad_norms` is given.
    """
    names = list(clipped_share)
    share = np.array([clipped_share[k] for k in names], dtype=float)
    norms = [f"{grad_norms[k]:.3g}" if grad_norms and k in grad_norms else "n/a" for k in names]
    title = f"gradient entries clipped at ±{clip:g}" if clip else "gradient clipping is off"
    bars = dict(
        type="bar",
        x=names, y=f32(share * 100.0), marker=dict(color=CLIP_COLOR), customdata=norms,
        text=[f"{s:.0%}" for s in share], textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: %{y:.1f}% of entries clipped<br>‖gradient‖ = %{customdata}<extra></extra>",
    )
    layout = base_layout(260, title=title,
                         xaxis=axis("parameter", type="category", tickfont=dict(family="monospace")),
                         yaxis=axis("entries clipped (%)", range=[0, 105]))
    return go.Figure(data=[bars], layout=layout)


# --- one step under the microscope ----------------------------------------------------------------

_ROWS = (
    ("onehot", "x: one-hot input"),
    ("h", "h_prev (dots) → h (bars), per hidden unit"),
    ("scores", "scores y = Why·h + by"),
    ("probs", "p = softmax(y)"),
    ("dscores", "dL/dy = p − onehot(target)"),
)


_PROBABILITIES = ("onehot", "probs")  # rows on a fixed 0..1 scale
_X_STYLE = dict(gridcolor=GRID_COLOR, linecolor="#c8c8c8", showline=True, automargin=True)
_Y_STYLE = dict(_X_STYLE, zerolinecolor="#d4d4d4")


@functools.lru_cache(maxsize=1)
def _microscope_grid_once() -> dict:
    grid = make_subplots(rows=5, cols=1, vertical_spacing=0.085, subplot_titles=[t for _, t in _ROWS])
    return grid.layout.to_plotly_json()


def _microscope_grid() -> dict:
    """The five rows' axes (domains, anchors) and row titles: make_subplots is slow, so it runs once."""
    return copy.deepcopy(_microscope_grid_once())


def microscope_figure(m: Mapping, chars: Sequence[str]) -> go.Figure:
    """Five stacked bar charts for one character (the dict of rnn_core.analysis.microscope).

    Rows: one-hot input (input char in green), h_prev and h over the hidden units, scores,
    probabilities and the gradient on the scores over the vocabulary (target char in red). The
    title gives p(target) before and after the one update.
    """
    V = len(chars)
    for key in ("onehot", "scores", "probs", "dscores"):
        if np.shape(m[key]) != (V,):
            raise ValueError(f"m[{key!r}] must have one value per vocabulary character ({V}), got {np.shape(m[key])}.")
    labels = [char_label(c) for c in chars]
    x_id, y_id = int(m["input_id"]), int(m["target_id"])
    layout = _microscope_grid()  # the five rows' axes and titles
    traces = []
    for row, (key, _) in enumerate(_ROWS, start=1):
        n = str(row) if row > 1 else ""  # make_subplots names the axes x, x2, ..., x5
        on = dict(xaxis="x" + n, yaxis="y" + n)
        x_style, y_style = dict(_X_STYLE), dict(_Y_STYLE, **(dict(range=[0, 1.05]) if key in _PROBABILITIES else {}))
        if key == "h":
            units = np.arange(len(m["h"]), dtype=np.int32)
            traces.append(dict(type="bar", x=units, y=f32(m["h"]), name="h", marker=dict(color=BAR_COLOR),
                               hovertemplate="unit %{x}<br>h = %{y:.4f}<extra></extra>", **on))
            traces.append(dict(type="scatter", x=units, y=f32(m["h_prev"]), name="h_prev", mode="markers",
                               marker=dict(color=TEXT_COLOR, size=5),
                               hovertemplate="unit %{x}<br>h_prev = %{y:.4f}<extra></extra>", **on))
        else:
            hi, hi_color = (x_id, INPUT_COLOR) if key == "onehot" else (y_id, POS_COLOR)
            colors = [BAR_COLOR] * V
            colors[hi] = hi_color
            traces.append(dict(
                type="bar",
                x=labels, y=f32(m[key]), name=key, marker=dict(color=colors),
                hovertemplate=f"'%{{x}}'<br>{key} = %{{y:.4g}}<extra></extra>", **on,
            ))
            x_style.update(type="category", tickfont=dict(family="monospace", size=10 if V <= 60 else 8),
                           tickangle=0 if V <= 40 else -90)
        layout["xaxis" + n].update(x_style)
        layout["yaxis" + n].update(y_style)
    look = base_layout(860, margin=dict(t=70, b=40))
    del look["xaxis"], look["yaxis"]  # the grid's five pairs instead
    layout.update(look, title=dict(
        text=(f"input '{html.escape(char_label(m['input_char']))}' → target "
              f"'{html.escape(char_label(m['target_char']))}':  p(target) {m['p_before']:.4f} → "
              f"{m['p_after']:.4f} after one {html.escape(str(m['update']))} step at lr {m['learning_rate']:g}"
              f"<br><sup>{html.escape(str(m.get('formula', '')))}</sup>"),
        x=0.01, font=dict(size=13)))
    return go.Figure(data=traces, layout=layout)


# --- samples over time ----------------------------------------------------------------------------

def sample_html(iteration: int, text: str) -> str:
    """One recorded sample as an escaped monospace block, headed by its iteration (newlines as <br>)."""
    body = "<br>".join(html.escape(line) for line in str(text).split("\n"))
    return (f'<div style="{_SAMPLE_BOX}"><div style="color:#777;margin-bottom:4px">'
            f"sample at iteration {int(iteration):,}</div>{body}</div>")
