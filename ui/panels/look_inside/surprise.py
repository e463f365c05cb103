"""Look inside: the surprise strip. The probe text coloured by −log p of each character, the model's
top guesses on hover, and the characters it expected least."""
from __future__ import annotations

import html
import math

import numpy as np
import streamlit as st

from types import SimpleNamespace

from rnn_core import char_label

from ...figures.insight import surprise_strip_html
from ..common import metric_row

def request_surprise(trainer, ss, pin) -> dict | None:
    return {"view": "surprise", "text": pin.text, "k": 3} if pin.text else None


def render_surprise(trainer, ss, pin, snap: dict) -> None:
    """The probe text colored by −log p of each character; the model's top guesses on hover."""
    if not pin.text:
        return
    V = trainer.vocab.size
    if len(snap["text"]) < 2:
        st.info("Type at least two characters: the strip shows how well each one was predicted from those before.")
        return
    pr = SimpleNamespace(text=snap["text"])
    loss, guesses = np.asarray(snap["loss"], dtype=np.float64), snap["guesses"]
    vmax = math.log(V)
    st.caption(f"Each character is colored by the model's surprise at seeing it: −ln p(character | the text before "
               f"it). White: expected; full orange: {vmax:.2f} nats, the surprise of a uniform guess over {V} "
               "characters. Hover a character for its probability and the model's top 3 guesses.")
    st.html(surprise_strip_html(pr.text, loss, guesses, vmax=vmax))
    finite = loss[np.isfinite(loss)]
    left, right = st.columns([3, 2])
    with left:
        c = metric_row(2)
    mean = float(finite.mean()) if finite.size else float("inf")
    c[0].metric("Mean surprise", f"{mean / math.log(2):.2f} bits/char",
                help=f"Average −log2 p over the {len(loss)} predicted characters of the probe text. A uniform "
                     f"guess scores {math.log2(V):.2f}.")
    c[1].metric("Characters better than uniform", f"{float(np.mean(loss < vmax)):.0%}",
                help="Share of characters the model gives a higher probability than 1/V.")
    worst = np.argsort(-np.nan_to_num(loss, posinf=1e300), kind="stable")[:3]
    rows = "".join(
        f"<li><b>{html.escape(char_label(pr.text[t + 1]))}</b> after “{html.escape(_tail(pr.text, t))}”: "
        f"{loss[t]:.2f} nats, the model expected <b>{html.escape(char_label(guesses[t][0][0]))}</b></li>"
        for t in worst)
    with right:
        st.html(f'<div style="font-size:14px"><b>Most surprising</b><ul style="margin:2px 0 0 0">{rows}</ul></div>')


def _tail(text: str, t: int, n: int = 8) -> str:
    """The n characters up to and including position t, on one line."""
    return ("…" if t + 1 > n else "") + text[max(0, t + 1 - n): t + 1].replace("\n", "⏎")
