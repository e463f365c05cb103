"""Small helpers shared by the panels."""
from __future__ import annotations

import streamlit as st

from ..session.session import session_of

PLOTLY_CONFIG = {"displayModeBar": False}

_SHOW = {"error": st.error, "warning": st.warning, "success": st.success, "info": st.info}


# Streamlit cuts a metric's label with an ellipsis when it is wider than its box ("Bits per ch…" on
# a laptop). Let labels wrap instead; the rows of readouts wrap too (horizontal containers).
PAGE_STYLE = """<style>
[data-testid="stMetricLabel"] > div, [data-testid="stMetricLabel"] p {white-space: normal; overflow: visible;}
</style>"""


class _MetricRow:
    """A horizontal container whose metrics are as wide as their text (see `metric_row`)."""

    def __init__(self, box) -> None:
        self._box = box

    def metric(self, *args, **kwargs):
        kwargs.setdefault("width", "content")
        return self._box.metric(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._box, name)

    def __enter__(self):
        return self._box.__enter__()

    def __exit__(self, *exc):
        return self._box.__exit__(*exc)


def metric_row(n: int) -> list:
    """Stands in for `st.columns(n)` in a row of readouts: one wrapping row, each readout as wide as its
    text, so a narrow page puts a readout on the next line instead of cutting "0.308 → 0.016" to "0.30…"."""
    return [_MetricRow(st.container(horizontal=True, gap="medium"))] * n


def page_style() -> None:
    st.html(PAGE_STYLE)


def show_notices(ss, area: str) -> None:
    """Show (once) the messages the actions queued for this area."""
    for kind, message in session_of(ss).take_notices(area):
        _SHOW.get(kind, st.info)(message)


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, theme=None)
