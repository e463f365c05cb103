"""Insight views on the training window the model will learn from next: gradient flow, microscope.

Both read the window Trainer.step would pick next (rnn_core.analysis.next_window) and change
nothing: the gradients and the "after one update" probability come from copies.
"""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from rnn_core import analysis as A
from rnn_core import char_label

from .figures import gradient_norms_figure
from .figures_insight import clipped_share_figure, microscope_figure
from .panels_common import chart

UPDATE_LABELS = {"sgd": "one plain SGD step (as the notebooks do)", "trainer": "one step of the trainer's optimizer"}


def glyph(ch: str) -> str:
    """One character as one visible glyph (space ␣, newline ⏎, tab ⇥, other controls ·)."""
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(ch) or (ch if ch.isprintable() else "·")


def window_html(chars: str, pos: int | None = None) -> str:
    """The window's characters in monospace; with `pos`, the input there framed green, the target red."""
    cells = []
    for t, ch in enumerate(chars):
        shown = html.escape(glyph(ch))
        style = ""
        if pos is not None and t == pos:
            style = "outline:2px solid #2ca02c;background:#eaf6ea"
        elif pos is not None and t == pos + 1:
            style = "outline:2px solid #d62728;background:#fbeaea"
        cells.append(f'<span style="{style}">{shown}</span>' if style else shown)
    return ('<div style="font-family:monospace;font-size:15px;background:#f6f6f8;border-radius:6px;'
            f'padding:6px 10px;word-break:break-all;letter-spacing:1px">{"".join(cells)}</div>')


# --- gradient flow --------------------------------------------------------------------------------

def render_gradient_flow(trainer, ss, pin) -> None:
    """‖dL/dh_t‖ over the T steps of the next window, and the share of gradient entries clipped."""
    g = A.gradient_flow(trainer)
    T = len(g.norms)
    st.caption(f"This view reads the training window the model learns from next (characters {g.start:,}–"
               f"{g.start + T:,} of the training text), not the probe text. Backpropagation through time sends the "
               "error at every step back through the earlier ones; each bar is the size of the gradient that "
               "reaches the hidden state at step t.")
    st.html(window_html(g.chars))
    left, right = st.columns([3, 2], gap="medium")
    with left:
        fig = gradient_norms_figure(g.norms, g.chars)
        fig.update_layout(title=dict(text=f"‖dL/dh_t‖ at each of the {T} steps (log scale)", x=0.01,
                                     font=dict(size=14)), margin=dict(t=40))
        fig.update_xaxes(ticktext=[glyph(ch) for ch in g.chars])  # one glyph per bar, not "␣ space"
        chart(fig, "grad_flow")
    with right:
        chart(clipped_share_figure(g.clipped_share, g.grad_norms, g.clip), "clipped_share")
    c = st.columns(3)
    first, last = float(g.norms[0]), float(g.norms[-1])
    c[0].metric("Window loss", f"{g.loss:.2f} nats", help="The loss Trainer.step will compute on this window.")
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


# --- one step under the microscope ----------------------------------------------------------------

def render_microscope(trainer, ss, pin) -> None:
    """One character of the next window through the forward pass, its gradient and one update."""
    T = trainer.config.seq_length
    if not isinstance(ss.get("micro_pos"), (int, np.integer)) or not 0 <= ss["micro_pos"] < T:
        ss["micro_pos"] = 0
    ss.setdefault("micro_update", "sgd")
    st.caption("As seeds 000 and 004 walk through it: one character of the training window the model learns from "
               "next goes through the forward pass, gets its gradient, and the model takes one step. Does the "
               "probability of the right next character go up?")
    c = st.columns([3, 2], vertical_alignment="bottom")
    if T > 1:
        c[0].slider("Character of the window (green: the input; red: the target, the character after it)",
                    0, T - 1, key="micro_pos")
    c[1].radio("Update", list(UPDATE_LABELS), key="micro_update", format_func=UPDATE_LABELS.get,
               help="Plain SGD: w −= lr·g on this one character's loss, no clipping. The trainer's optimizer: "
                    "clipped, with its accumulated state (Adagrad's memory), as training would do it.")
    pos = int(ss["micro_pos"])
    m = A.microscope(trainer, pos, update=str(ss["micro_update"]))
    w = A.next_window(trainer)
    st.html(window_html(trainer.vocab.decode(np.append(w.inputs, w.targets[-1])), pos))
    k = st.columns(4)
    k[0].metric("Input → target", f"‘{char_label(m['input_char'])}’ → ‘{char_label(m['target_char'])}’")
    k[1].metric("p(target) before", f"{m['p_before']:.4f}", help=f"Loss {m['loss_before']:.3f} nats.")
    k[2].metric("p(target) after one step", f"{m['p_after']:.4f}", f"{m['p_after'] - m['p_before']:+.4f}",
                help=f"Loss {m['loss_after']:.3f} nats, after {UPDATE_LABELS[m['update']]} at learning rate "
                     f"{m['learning_rate']:g} on a copy of the model (the real one is not changed).")
    k[3].metric("Loss before → after", f"{m['loss_before']:.3f} → {m['loss_after']:.3f}",
                help="−ln p(target), in nats.")
    chart(microscope_figure(m, trainer.vocab.chars), "microscope")
    st.markdown(f"**The cell:** `{m['formula']}`, then scores `y = Why·h + by`, `p = softmax(y)`, and the gradient "
                "on the scores `dL/dy = p − onehot(target)`.")
    terms = m["terms"]
    if terms:
        norms = " · ".join(f"‖{name}‖ = {float(np.linalg.norm(terms[name])):.3f}"
                           for name in ("Wxh·x", "Whh·h_prev", "bh"))
        st.caption(f"The three parts of the pre-activation: {norms}. Seeds 000 and 004 put the bias inside the "
                   f"recurrent product, tanh(Wxh·x + Whh·(h_prev + bh)); here that would change h by up to "
                   f"{terms['bias_inside_gap']:.2g}. It is 0 while bh = 0, which is why the slip goes unnoticed "
                   "at initialisation.")
