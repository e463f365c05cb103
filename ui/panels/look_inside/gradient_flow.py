"""Look inside: gradient flow. ‖dL/dh_t‖ over the steps of the training window the model learns from
next, and the share of each parameter's gradient entries that clipping cuts. Reads the window
Trainer.step would pick next (rnn_core.analysis.next_window) and changes nothing."""
from __future__ import annotations

import streamlit as st

from types import SimpleNamespace

import numpy as np

from ...figures.insight import clipped_share_figure
from ...figures.probe import gradient_norms_figure
from ...figures.strips import glyph, window_html
from ..common import chart, metric_row

def request_gradient_flow(trainer, ss, pin) -> dict:
    return {"view": "gradient_flow"}


def render_gradient_flow(trainer, ss, pin, snap: dict) -> None:
    """‖dL/dh_t‖ over the T steps of the next window, and the share of gradient entries clipped."""
    g = SimpleNamespace(**{**snap, "norms": np.asarray(snap["norms"], dtype=np.float64)})
    T = len(g.norms)
    st.caption(f"This view reads the training window the model learns from next (characters {g.start:,}–"
               f"{g.start + T:,} of the training text), not the probe text. Backpropagation through time sends the "
               "error at every step back through the earlier ones; each bar is the size of the gradient that "
               "reaches the hidden state at step t.")
    st.html(window_html(g.chars))
    left, right = st.columns([3, 2], gap="medium")
    with left:
        chart(gradient_norms_figure(g.norms, g.chars, title=f"‖dL/dh_t‖ at each of the {T} steps (log scale)",
                                    ticktext=[glyph(ch) for ch in g.chars]),  # one glyph per bar, not "␣ space"
              "grad_flow")
    with right:
        chart(clipped_share_figure(g.clipped_share, g.grad_norms, g.clip), "clipped_share")
    c = metric_row(3)
    first, last = float(g.norms[0]), float(g.norms[-1])
    c[0].metric("Window loss", f"{g.loss:.2f} nats", help="The loss the next training step will compute on this window.")
    c[1].metric("‖dL/dh‖ first ÷ last step", f"{first / last:.3g}" if last > 0 else "n/a",
                help="Far below 1: the gradient fades on its way back (vanishing); far above 1: it grows "
                     "(exploding).")
    worst = max(g.clipped_share, key=g.clipped_share.get) if g.clipped_share else None
    shown = f"{worst} {g.clipped_share[worst]:.1%}" if worst and g.clipped_share[worst] > 0 else "none"
    c[2].metric("Most clipped parameter", shown if g.clip else "clipping off",
                help="The share of that parameter's gradient entries the clip changes at this step.")
    st.caption("Each bar is the error of that step's own prediction plus what flows back from the later steps "
               "through Whh. When the part from later steps fades on its way back (vanishing gradients), the early "
               "characters learn little about what comes long after them; when it grows (exploding gradients), the "
               "early bars tower over the late ones. Many clipped entries mean the raw gradient is larger than the "
               "clip: a sign of exploding gradients or too high a learning rate.")
