"""Figures of the probe text and the next window: hidden-state heatmap, next-character bars,
gradient norms per step."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from rnn_core.text import char_label

from .base import axis, base_layout, f32

__all__ = ["gradient_norms_figure", "hidden_heatmap", "position_labels", "prob_bars"]

BAR_COLOR = "#9db4cf"
TRUE_COLOR = "#d62728"
GRAD_COLOR = "#6a51a3"
FRAME_COLOR = "#ffc400"  # the chosen position's column in the heatmap


def position_labels(text: str) -> list[str]:
    """Unique category names for the characters of a text: "'e' at position 3".

    A character can repeat in a text, so a categorical axis needs its position in the
    name; the hover shows this name, the tick shows only the character.
    """
    return [f"'{char_label(ch)}' at position {i}" for i, ch in enumerate(text)]


def hidden_heatmap(
    hidden: np.ndarray,
    text: str,
    *,
    title: str = "hidden state",
    zmin: float = -1.0,
    zmax: float = 1.0,
    colorscale: str = "RdBu",
    ticktext: Sequence[str] | None = None,
    tickangle: int | None = None,
    frame: int | None = None,
) -> go.Figure:
    """Hidden units (rows) x characters of `text` (columns); hidden is (T, H), one row per char.

    The x axis is categorical, one category per position (see `position_labels`),
    with ticks showing the characters: a per-cell customdata array would add
    ~4 bytes per cell (40 KB for 100 units x 100 chars) to every rerun's payload.
    `ticktext`/`tickangle` replace the tick labels (default: char_label of each character) and their
    angle (default: upright up to 40 columns); `frame` draws a yellow frame around that column.
    """
    hidden = np.asarray(hidden)
    if hidden.ndim != 2:
        raise ValueError(f"hidden must be a (T, H) array, got shape {hidden.shape}.")
    T, H = hidden.shape
    if len(text) != T:
        raise ValueError(f"text has {len(text)} characters but hidden has {T} rows; pass one state per character.")
    cats = position_labels(text)
    heat = dict(
        type="heatmap",
        z=f32(hidden.T), x=cats, y=np.arange(H, dtype=np.int32),  # z: (H, T)
        zmin=zmin, zmax=zmax, zmid=0.0, colorscale=colorscale, reversescale=True,
        colorbar=dict(thickness=12, len=0.9, title=dict(text="value", side="right")),
        hovertemplate="unit %{y}<br>char %{x}<br>value %{z:.3f}<extra></extra>",
        xgap=0, ygap=0,
    )
    xaxis = axis(
        "input character", type="category", tickmode="array", tickvals=cats,
        ticktext=[char_label(ch) for ch in text] if ticktext is None else list(ticktext),
        tickangle=(0 if T <= 40 else -90) if tickangle is None else tickangle,
        tickfont=dict(family="monospace", size=11 if T <= 60 else 9), showgrid=False,
    )
    framed = {} if frame is None else dict(shapes=[dict(
        type="rect", xref="x", yref="y domain", x0=frame - 0.5, x1=frame + 0.5, y0=0, y1=1,
        line=dict(color=FRAME_COLOR, width=2.5), fillcolor="rgba(0,0,0,0)",
    )])
    layout = base_layout(420, title=title, xaxis=xaxis,
                         yaxis=axis("hidden unit", autorange="reversed", showgrid=False, zeroline=False), **framed)
    return go.Figure(data=[heat], layout=layout)


def prob_bars(
    probs: np.ndarray,
    chars: Sequence[str],
    *,
    true_next: str | None = None,
    top_k: int = 10,
    title: str = "",
) -> go.Figure:
    """The top_k most likely next characters, most likely first; the true next char in red.

    When the true next character is not among the top_k, it is appended as an extra
    bar, so it is always visible.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 1 or len(probs) != len(chars):
        raise ValueError(f"probs must be a (V,) array with one value per vocabulary char; "
                         f"got shape {probs.shape} for {len(chars)} chars.")
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}.")
    order = np.argsort(-probs, kind="stable")
    shown = [int(i) for i in order[:top_k]]
    true_idx = list(chars).index(true_next) if true_next is not None and true_next in chars else None
    if true_idx is not None and true_idx not in shown:
        shown.append(true_idx)
    labels = [char_label(chars[i]) for i in shown]
    values = probs[shown]
    colors = [TRUE_COLOR if i == true_idx else BAR_COLOR for i in shown]
    notes = ["true next char" if i == true_idx else "" for i in shown]
    bars = dict(
        type="bar",
        x=labels, y=f32(values), marker=dict(color=colors), customdata=notes,
        text=[f"{v:.2f}" for v in values], textposition="outside", cliponaxis=False,
        hovertemplate="next char '%{x}'<br>p = %{y:.3f}<br>%{customdata}<extra></extra>",
    )
    layout = base_layout(340, title=title,
                         xaxis=axis("next character", type="category", tickfont=dict(family="monospace")),
                         yaxis=axis("probability", range=[0, 1]))
    return go.Figure(data=[bars], layout=layout)


def gradient_norms_figure(norms: np.ndarray, chars: str | None = None, *, title: str = "",
                          ticktext: Sequence[str] | None = None) -> go.Figure:
    """Bars of ‖dL/dh_t‖ for t = 0..T-1 on a log scale: vanishing or exploding gradients.

    With `chars`, the ticks name each step's input (char_label, or `ticktext` when given).
    """
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1:
        raise ValueError(f"norms must be a (T,) array, got shape {norms.shape}.")
    T = len(norms)
    if chars is not None and len(chars) != T:
        raise ValueError(f"chars has {len(chars)} characters but norms has {T} steps.")
    steps = np.arange(T, dtype=np.int32)
    inputs = [char_label(c) for c in chars] if chars is not None else [""] * T
    bars = dict(
        type="bar",
        x=steps, y=f32(norms), marker=dict(color=GRAD_COLOR), customdata=inputs,
        hovertemplate=("step t = %{x}" + (", input '%{customdata}'" if chars is not None else "")
                       + "<br>‖dL/dh_t‖ = %{y:.3g}<extra></extra>"),
    )
    ticks = {}
    if chars is not None:
        ticks = dict(tickmode="array", tickvals=steps, ticktext=inputs if ticktext is None else list(ticktext),
                     tickangle=0 if T <= 40 else -90, tickfont=dict(family="monospace", size=11 if T <= 60 else 9))
    xaxis = axis("time step t" + (" (input char)" if chars is not None else ""), **ticks)
    layout = base_layout(300, title=title, xaxis=xaxis, yaxis=axis("‖dL/dh_t‖ (log scale)", type="log"))
    return go.Figure(data=[bars], layout=layout)
