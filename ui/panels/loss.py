"""The loss chart: every run's curve, the counting baselines and the held-out loss."""
from __future__ import annotations

import streamlit as st

from ..figures.loss import legend_order, loss_figure, run_curves
from ..session import validation
from ..session.session import session_of
from .common import chart

UNIT_LABELS = {"nats": "nats per window", "bits": "bits per character"}


def render_loss(ss) -> None:
    """Loss of every run in the session (one curve per run), in the chosen unit."""
    sess = session_of(ss)
    tr, names = sess.trainer, sess.run_names()
    head = st.columns([3, 2], vertical_alignment="bottom")
    head[0].markdown("##### Loss: how surprised the model is by the next character")
    head[1].radio("Loss unit", list(UNIT_LABELS), key="unit", horizontal=True, format_func=UNIT_LABELS.get,
                  label_visibility="collapsed", help="nats per window is what min-char-rnn prints; bits per "
                  "character divides by the window length and ln 2, so texts and settings compare.")
    labels = ["training loss"] if len(names) == 1 else names  # "RNN H=100", "RNN lr=0.1"
    series = run_curves([r.trainer.history for r in sess.runs], labels, sess.active)
    fig = loss_figure(series, seq_length=tr.config.seq_length, vocab_size=tr.vocab.size, unit=ss["unit"],
                      samples=tr.samples, **validation.loss_chart_extras(sess))
    legend_order(fig, names)
    chart(fig, "loss_chart")
    st.caption(f"Faint: the loss on each training window. Bold: min-char-rnn's smooth loss, a slow running "
               "average (0.999·old + 0.001·new) that lags behind the faint line. Dashed: a uniform guess over the "
               f"{tr.vocab.size} characters; learning means getting below it. Dotted: what counting "
               "characters of the training text scores (unigram: letter frequencies; bigram, trigram: given the "
               "1 or 2 characters before; they have memorised this text, so on new text they would score worse). "
               "Diamonds: hover to read what the model wrote at that iteration. Hold out the end of the text "
               "(sidebar, on Reset) to add the held-out loss, on text the model never trains on.")
