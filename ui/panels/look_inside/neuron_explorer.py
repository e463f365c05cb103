"""Look inside: the neuron explorer. Rank the units by how well they track simple features of the
probe text; click one to see it light up along the text (and, for a cell with an unbounded state,
that state too)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from rnn_core.cells import CELLS

from ...figures.insight import neuron_strip_html, unit_ranking_figure
from ..common import PLOTLY_CONFIG

RANK_TOP = 3          # units listed per feature in the ranking
RANKING_KEY = "unit_ranking"


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


def request_neuron_explorer(trainer, ss, pin) -> dict | None:
    """What the worker computes: the ranking, and the chosen unit along the text (it picks the best-ranked
    unit when none is chosen yet)."""
    if not pin.text:
        return None
    unit = ss.get("neuron")
    H = trainer.config.hidden_size
    unit = int(unit) if isinstance(unit, (int, np.integer)) and 0 <= unit < H else None
    return {"view": "neurons", "text": pin.text, "unit": unit, "top": RANK_TOP}


def render_neuron_explorer(trainer, ss, pin, snap: dict) -> None:
    """Pick a hidden unit (a ranking bar or the selector) and see it light up along the probe text."""
    if not pin.text:
        return
    text, H, ranking = snap["text"], int(snap["H"]), snap["ranking"]
    if not isinstance(ss.get("neuron"), (int, np.integer)) or not 0 <= ss["neuron"] < H:
        ss["neuron"] = int(snap["unit"])   # the worker started on the unit that tracks a feature best
    st.caption("Which hidden units track something simple about the text? The bars rank, for each feature of the "
               "probe text, the units whose activation follows it most closely (Pearson r: red rises with the "
               "feature, blue falls). Click a bar, or pick any unit, to see it along the text.")
    left, right = st.columns([2, 3], gap="medium")
    with left:
        # Hover (and so a click) by row: in a narrow column "closest" often misses short bars.
        fig = unit_ranking_figure(ranking, title="Units that track a feature of the probe text", hovermode="y")
        st.plotly_chart(fig, key=RANKING_KEY, config=PLOTLY_CONFIG, theme=None, on_select=pick_unit_from_ranking,
                        selection_mode="points")
    with right:
        st.number_input(f"Hidden unit (0–{H - 1})", min_value=0, max_value=H - 1, step=1, key="neuron",
                        help="Also set by clicking a bar of the ranking.")
        unit = int(snap["unit"])
        st.markdown(f"**Unit {unit}** after reading each character (red +1, white 0, blue −1; hover for values)")
        st.html(neuron_strip_html(text, np.asarray(snap["activation"])[:, None], 0, name=unit))   # (T, 1): that unit only
        tracks = " · ".join(f"{name} {r:+.2f}" for name, r in zip(snap["names"], snap["r_unit"]))
        st.caption(f"Correlation of unit {unit} with each feature on this text: {tracks}.")
        cell = trainer.config.cell
        for key, view in getattr(CELLS.get(cell), "views", {}).items():
            if view.kind != "unbounded" or key not in snap["unbounded"]:
                continue
            values = np.asarray(snap["unbounded"][key], dtype=np.float64)  # (T,) of that unit
            scale = float(np.max(np.abs(values))) or 1.0
            st.markdown(f"**{cell.upper()} {view.label} of unit {unit}** (unbounded; colours scaled to ±{scale:.2f})")
            st.html(neuron_strip_html(text, values[:, None], 0, scale=scale, name=unit))
            st.caption(f"The {view.label}: {view.meaning}. Unbounded, it can count or hold a value across many "
                       "characters, while h above is what the cell lets out at each step.")
