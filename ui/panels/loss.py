"""The loss chart: every run's curve, the counting baselines and the held-out loss."""
from __future__ import annotations

import streamlit as st

from ..figures.loss import DEFAULT_SMOOTHING, loss_figure, run_curves
from ..session import validation
from ..session.session import session_of
from .common import chart

UNIT_LABELS = {"nats": "nats per window", "bits": "bits per character"}


def render_loss(ss) -> None:
    """Loss of every run in the session (one curve per run), in the chosen unit."""
    sess = session_of(ss)
    tr, names = sess.trainer, sess.run_names()
    st.markdown("##### Loss: how surprised the model is by the next character")
    head = st.columns([3, 2], vertical_alignment="bottom")
    head[0].radio("Loss unit", list(UNIT_LABELS), key="unit", horizontal=True, format_func=UNIT_LABELS.get,
                  help="nats per window is what min-char-rnn prints; bits per "
                  "character divides by the window length and ln 2, so texts and settings compare.")
    head[1].slider("Smoothing of the bold line", min_value=0.0, max_value=0.99, step=0.01, key="loss_smoothing",
                   help="0 draws the raw loss; towards 1 the bold line averages over more iterations. It is a "
                        "moving average corrected for its start, so it follows the raw loss from the first "
                        "iteration on.")
    labels = ["training loss"] if len(names) == 1 else names  # "RNN H=100", "RNN lr=0.1"
    series = run_curves([r.trainer.history for r in sess.runs], labels, sess.active,
                        smoothing=float(ss.get("loss_smoothing", DEFAULT_SMOOTHING)))
    fig = loss_figure(series, seq_length=tr.config.seq_length, vocab_size=tr.vocab.size, unit=ss["unit"],
                      samples=tr.samples, legend_names=names, **validation.loss_chart_extras(sess))
    chart(fig, "loss_chart")
    st.caption(f"Faint: the loss on each training window. Bold: the same loss averaged over recent iterations "
               "(the slider sets how many), so it shows where the model is now. The readout *Smooth loss "
               "(min-char-rnn)* above is the program's own, much slower average (0.999·old + 0.001·new, started "
               "at the uniform guess): early on it reads far higher than the model scores. Dashed: a uniform guess over the "
               f"{tr.vocab.size} characters; learning means getting below it. Dotted: what counting "
               "characters of the training text scores (unigram: letter frequencies; bigram, trigram: given the "
               "1 or 2 characters before; they have memorised this text, so on new text they would score worse). "
               "Diamonds: hover to read what the model wrote at that iteration. Hold out the end of the text "
               "(sidebar, on Reset) to add the held-out loss, on text the model never trains on.")
