"""Look inside: one step under the microscope. One character of the next training window through the
forward pass, its gradient and one update of a copy of the model (the real one is not changed)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from rnn_core import char_label

from ...figures.insight import microscope_figure
from ...figures.strips import window_html
from ..common import chart, metric_row

UPDATE_LABELS = {"sgd": "one plain gradient step", "trainer": "one step of the run's own optimizer"}

def request_microscope(trainer, ss, pin) -> dict:
    T = trainer.config.seq_length
    if not isinstance(ss.get("micro_pos"), (int, np.integer)) or not 0 <= ss["micro_pos"] < T:
        ss["micro_pos"] = 0
    ss.setdefault("micro_update", "sgd")
    return {"view": "microscope", "position": int(ss["micro_pos"]), "update": str(ss["micro_update"])}


def render_microscope(trainer, ss, pin, snap: dict) -> None:
    """One character of the next window through the forward pass, its gradient and one update."""
    T = trainer.config.seq_length
    st.caption("Learning, slowed down to one character: the model reads one character of the window it trains on "
               "next, scores every possible next character, turns the scores into probabilities, measures how wrong "
               "it was (p − 1 on the right character, p elsewhere) and nudges its weights against that error. Does "
               "the probability of the right next character go up?")
    c = st.columns([3, 2], vertical_alignment="bottom")
    if T > 1:
        c[0].slider("Character of the window (green: the input; red: the target, the character after it)",
                    0, T - 1, key="micro_pos")
    c[1].radio("Update", list(UPDATE_LABELS), key="micro_update", format_func=UPDATE_LABELS.get,
               help="Plain gradient step: w −= learning rate · gradient of this one character's loss, no clipping. "
                    "The run's own optimizer: clipped, with the memory it has built up (Adagrad's sum of squared "
                    "gradients), as training would do it.")
    pos = int(snap["position"])
    m = snap
    st.html(window_html(m["window"], pos))
    k = metric_row(4)
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
        st.caption(f"The three parts added up before the tanh: {norms}. The bias bh is added on its own, outside "
                   f"the recurrent product. A common slip writes tanh(Wxh·x + Whh·(h_prev + bh)) instead; here that "
                   f"would change h by up to {terms['bias_inside_gap']:.2g}. Both agree while bh = 0, as it is at "
                   "the start, which is why the slip is easy to miss.")
