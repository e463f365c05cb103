"""Shared look of every chart: a lean white layout and float32 conversion.

Plotly's default template adds ~6.5 KB of JSON to every figure, so the charts use
`template="none"` and set the few styles they need themselves. Every figure is built in one
go, `go.Figure(data=[...], layout=base_layout(...))`, never grown by update_/add_ calls.
"""
from __future__ import annotations

import numpy as np

# Plotly's qualitative palette, repeated here so colors do not depend on a template.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
TEXT_COLOR = "#31333f"
GRID_COLOR = "#ececec"
REFERENCE_COLOR = "#6b6b6b"

_AXIS = dict(
    gridcolor=GRID_COLOR,
    zerolinecolor="#d4d4d4",
    linecolor="#c8c8c8",
    showline=True,
    automargin=True,
)


def axis(title: str | None = None, **props) -> dict:
    """One axis of the shared look: light grid and line, a 12 px title, plus `props` (tick settings, range...)."""
    heading = dict(font=dict(size=12)) if title is None else dict(font=dict(size=12), text=title)
    return dict(_AXIS, title=heading, **props)


def base_layout(height: int, *, title: str = "", showlegend: bool = False, xaxis: dict | None = None,
                yaxis: dict | None = None, margin: dict | None = None, **props) -> dict:
    """The whole layout of a fixed-height, tight, white chart, to pass to go.Figure in one go.

    Plotly's incremental calls (update_xaxes, add_shape, update_layout with title_text...) validate
    the figure again at every call: built with them, a heatmap took four times as long as built
    from one layout dict. `xaxis`/`yaxis` default to a plain `axis()`; `margin` overrides some sides.
    """
    return dict(
        template="none",
        height=height,
        margin=dict(dict(l=56, r=16, t=40 if title else 16, b=44), **(margin or {})),
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(family="sans-serif", size=12, color=TEXT_COLOR),
        hoverlabel=dict(font=dict(size=12), align="left"),
        title=dict(text=title, x=0.01, font=dict(size=14)) if title else None,
        showlegend=showlegend,
        xaxis=axis() if xaxis is None else xaxis,
        yaxis=axis() if yaxis is None else yaxis,
        **props,
    )


def f32(values) -> np.ndarray:
    """Values as float32, the precision the browser gets (half the JSON of float64)."""
    return np.asarray(values, dtype=np.float32)


def compact_int(values) -> np.ndarray:
    """Integer positions (iterations, time steps) as int32 when they fit, else float64."""
    arr = np.asarray(values)
    if arr.size and np.issubdtype(arr.dtype, np.integer) and np.abs(arr).max() < 2**31:
        return arr.astype(np.int32)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float64)
    return arr


def color(i: int) -> str:
    """The colour of run i of a group: its loss curve, its readout card and its sample share it."""
    return PALETTE[i % len(PALETTE)]
