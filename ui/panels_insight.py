"""Insight views on the probe text: the neuron explorer and the surprise strip.

Each view is a `render(trainer, ss, probe_input)` registered in ui.panels.LOOK_INSIDE_TABS. Only the
chosen view runs on a rerun (the page picks one with a segmented control), so a view may build a
figure or two per Play tick without slowing the others. The maths is in rnn_core.analysis, the
drawing in ui.figures_insight; here are only widgets and layout.

Views on the training window (gradient flow, microscope) are in panels_insight_model, and the
baselines / held-out loss on the loss chart in panels_insight_loss.
"""
from __future__ import annotations

import html
import math

import numpy as np
import streamlit as st

from rnn_core import analysis as A
from rnn_core import char_label

from .figures_insight import neuron_strip_html, surprise_strip_html, unit_ranking_figure
from .panels_common import PLOTLY_CONFIG

RANK_TOP = 3          # units listed per feature in the ranking
RANKING_KEY = "unit_ranking"


# --- neuron explorer ------------------------------------------------------------------------------

def pick_unit_from_ranking(ss=None) -> None:
    """on_select of the ranking chart: the clicked bar's unit (its customdata) becomes `neuron`."""
    ss = st.session_state if ss is None else ss
    try:
        points = ss[RANKING_KEY]["selection"]["points"]
    except (KeyError, TypeError):
        return
    for point in points:
        unit = point.get("customdata")
        if isinstance(unit, (list, tuple)):
            unit = unit[0] if unit else None
        if unit is not None:
            ss["neuron"] = int(unit)
            return


def render_neuron_explorer(trainer, ss, pin) -> None:
    """Pick a hidden unit (a ranking bar or the selector) and see it light up along the probe text."""
    if not pin.text:
        return
    pr = trainer.probe(pin.text)
    H = pr.hidden.shape[1]
    features = A.text_features(pr.text)
    ranking = A.rank_units(pr.hidden, features, top=RANK_TOP)
    if not isinstance(ss.get("neuron"), (int, np.integer)) or not 0 <= ss["neuron"] < H:
        ss["neuron"] = ranking[0][1] if ranking else 0   # start on the unit that tracks a feature best
    st.caption("Which hidden units track something simple about the text? The bars rank, for each feature of the "
               "probe text, the units whose activation follows it most closely (Pearson r: red rises with the "
               "feature, blue falls). Click a bar, or pick any unit, to see it along the text.")
    left, right = st.columns([2, 3], gap="medium")
    with left:
        fig = unit_ranking_figure(ranking, title="Units that track a feature of the probe text")
        # Hover (and so a click) by row: in a narrow column "closest" often misses short bars.
        fig.update_layout(hovermode="y")
        st.plotly_chart(fig, key=RANKING_KEY, config=PLOTLY_CONFIG, theme=None, on_select=pick_unit_from_ranking,
                        selection_mode="points")
    with right:
        st.number_input(f"Hidden unit (0–{H - 1})", min_value=0, max_value=H - 1, step=1, key="neuron",
                        help="Also set by clicking a bar of the ranking.")
        unit = int(ss["neuron"])
        st.markdown(f"**Unit {unit}** after reading each character (red +1, white 0, blue −1; hover for values)")
        st.html(neuron_strip_html(pr.text, pr.hidden, unit))
        names, r = A.unit_correlations(pr.hidden, features)
        tracks = " · ".join(f"{name} {r[k, unit]:+.2f}" for k, name in enumerate(names))
        st.caption(f"Correlation of unit {unit} with each feature on this text: {tracks}.")
        cell = pr.extras.get("cell")
        if cell is not None:
            scale = float(np.max(np.abs(cell[:, unit]))) or 1.0
            st.markdown(f"**LSTM cell state c of unit {unit}** (unbounded; colours scaled to ±{scale:.2f})")
            st.html(neuron_strip_html(pr.text, cell, unit, scale=scale))
            st.caption("The cell state is the LSTM's long-term memory: it can count or hold a value across many "
                       "characters, while h above is what the cell lets out at each step.")


# --- surprise strip -------------------------------------------------------------------------------

def render_surprise(trainer, ss, pin) -> None:
    """The probe text colored by −log p of each character; the model's top guesses on hover."""
    if not pin.text:
        return
    pr = trainer.probe(pin.text)
    V = trainer.vocab.size
    if len(pr.text) < 2:
        st.info("Type at least two characters: the strip shows how well each one was predicted from those before.")
        return
    loss, guesses = A.surprise(pr, trainer.vocab.chars)
    vmax = math.log(V)
    st.caption(f"Each character is colored by the model's surprise at seeing it: −ln p(character | the text before "
               f"it). White: expected; full orange: {vmax:.2f} nats, the surprise of a uniform guess over {V} "
               "characters. Hover a character for its probability and the model's top 3 guesses.")
    st.html(surprise_strip_html(pr.text, loss, guesses, vmax=vmax))
    finite = loss[np.isfinite(loss)]
    c = st.columns(3)
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
    with c[2]:
        st.html(f'<div style="font-size:14px"><b>Most surprising</b><ul style="margin:2px 0 0 0">{rows}</ul></div>')


def _tail(text: str, t: int, n: int = 8) -> str:
    """The n characters up to and including position t, on one line."""
    return ("…" if t + 1 > n else "") + text[max(0, t + 1 - n): t + 1].replace("\n", "⏎")
