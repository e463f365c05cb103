"""Look inside: the hidden-state heatmap over the probe text, and the next-character bars at one position."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from rnn_core import char_label
from rnn_core.cells import CELLS

from ...figures import heatmap_views
from ...figures.probe import hidden_heatmap, prob_bars
from ...figures.strips import context_html, glyph
from ...session.session import session_of
from ...session.using import ProbeInput
from ..common import chart, metric_row

TOP_K_BARS = 10
MAX_HEATMAP_CELLS = 32_000  # ~5.3-7 bytes each (base64, values on_grid): the heatmap spec stays under ~250 KB at any H


def request_hidden_and_next(trainer, ss, pin: ProbeInput) -> dict | None:
    """What the worker computes for this view: the chosen grid over the probe text and the bars at pos."""
    if not pin.text:
        return None
    last = max(len(pin.text) - 2, 0)  # the last position with a true next character
    if ss.get("probe_pos", 0) > last:
        ss["probe_pos"] = last
    pos = int(ss.get("probe_pos", 0)) if last > 0 else 0
    cell = trainer.config.cell
    opts = heatmap_views.options(cell, [k for k in getattr(CELLS.get(cell), "views", {})])
    if ss.get("heatmap_view") not in opts:
        ss["heatmap_view"] = heatmap_views.HIDDEN  # e.g. "cell state" chosen, then a GRU run shown
    return {"view": "heatmap", "text": pin.text, "pos": pos, "key": ss["heatmap_view"]}


def render_hidden_and_next(trainer, ss, pin: ProbeInput, snap: dict) -> None:
    """Heatmap of the hidden state over the probe text, and the next-character bars at one position."""
    if not pin.text:
        return
    text = pin.text
    T = len(text)
    last = max(T - 2, 0)  # the last position with a true next character
    if last > 0:
        st.slider("Position in the probe text: the model has read up to here and guesses the next character",
                  0, last, key="probe_pos")
    pos = int(snap["pos"])
    grid = np.asarray(snap["grid"], dtype=np.float32)   # (T, H), the one grid the worker sent
    H = grid.shape[1]
    lo, hi = heatmap_window(T, H, pos)
    shown = text[lo:hi]
    view = _heatmap_view(ss, trainer, snap, grid)
    sess = session_of(ss)
    owner = f"{sess.run_names()[sess.active]} · " if sess.is_compare else ""
    chart(hidden_heatmap(on_grid(view.values[lo:hi]), shown, zmin=view.zmin, zmax=view.zmax,
                         colorscale=view.colorscale,
                         title=f"{owner}{view.title}: {H} units (rows) × {hi - lo} characters read (columns)",
                         ticktext=[glyph(ch) for ch in shown], tickangle=0 if hi - lo <= 90 else -90,
                         frame=pos - lo), "hidden_heatmap")
    window = (f" Showing characters {lo}–{hi - 1} of {T} around the chosen position: the heatmap draws at most "
              f"{MAX_HEATMAP_CELLS:,} cells to keep the page quick." if (lo, hi) != (0, T) else "")
    st.caption(view.caption + " The column framed in yellow is the chosen position. "
               "Units that change colour together with the text are tracking something about it." + window)
    left, right = st.columns([1, 1])
    true_next = text[pos + 1] if pos + 1 < T else None
    with left:
        bars = prob_bars(np.asarray(snap["probs"], dtype=np.float64), trainer.vocab.chars, true_next=true_next,
                         top_k=min(TOP_K_BARS, trainer.vocab.size),
                         title=f"Next character after position {pos}: the {min(TOP_K_BARS, trainer.vocab.size)} likeliest")
        chart(bars, "prob_bars")
    with right:
        st.markdown("**What the model has read, and what comes next**")
        st.markdown(context_html(text, pos), unsafe_allow_html=True)
        if true_next is not None:
            p = float(snap["probs"][trainer.vocab.index[true_next]])
            loss = float(snap["loss"][pos])
            c = metric_row(2)
            c[0].metric(f"p(‘{char_label(true_next)}’)", f"{p:.3f}",
                        help=f"The probability the model gives the true next character (red bar). "
                             f"A uniform guess gives {1 / trainer.vocab.size:.3f}.")
            c[1].metric("Loss here", f"{loss:.2f} nats", f"{loss / math.log(2):.2f} bits", delta_color="off",
                        delta_arrow="off", help="−ln p(true next): what this one character adds to the loss.")
        else:
            st.caption("The probe text ends here, so there is no true next character.")
        st.caption("Move the position slider to walk through the text; training sharpens these guesses.")


def _heatmap_view(ss, trainer, snap: dict, grid: np.ndarray) -> heatmap_views.HeatmapView:
    """The `heatmap_view` choice of the gated cells: h, the LSTM cell state c, a gate or the candidate."""
    cell = trainer.config.cell
    opts = heatmap_views.options(cell, [k for k in snap["keys"] if k != heatmap_views.HIDDEN])
    if len(opts) > 1:
        st.radio("Show in the heatmap", opts, key="heatmap_view", horizontal=True,
                 format_func=lambda k: heatmap_views.label(cell, k),
                 help="h is what the output layer reads. Gates are between 0 (closed) and 1 (open); h and the "
                      "candidate between −1 and +1; the LSTM's cell state c is not bounded (its colour range is "
                      "scaled, see below the heatmap).")
    key = snap["key"]   # the grid the worker sent: the choice of this script run's request
    return heatmap_views.build(cell, key, grid, {key: grid})


def on_grid(values: np.ndarray) -> np.ndarray:
    """Values snapped to multiples of 1/1024 (colour and 3-decimal hover unchanged).

    Plotly sends the float32 z as base64 and escapes every "/" in it as "\\u002f" (6 bytes). A trained
    tanh unit sits at ±0.99999994, whose bits are all ones: base64 full of "/", about 11 bytes a cell
    instead of 5.3 (375 KB for a 400-character probe at H=100). On the grid the low mantissa bits are
    zero, which keeps a cell near 7 bytes (~250 KB at the MAX_HEATMAP_CELLS cap).
    """
    return np.round(np.asarray(values, dtype=np.float64) * 1024.0) / 1024.0


def heatmap_window(T: int, H: int, pos: int) -> tuple[int, int]:
    """Columns [lo, hi) of the probe to draw: all of them, or as many as fit, centred on pos."""
    width = max(1, min(T, MAX_HEATMAP_CELLS // max(H, 1)))
    lo = min(max(0, pos - width // 2), T - width)
    return lo, lo + width
