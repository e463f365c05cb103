"""Small helpers shared by the panels."""
from __future__ import annotations

import streamlit as st

from ..session.session import session_of

PLOTLY_CONFIG = {"displayModeBar": False}

_SHOW = {"error": st.error, "warning": st.warning, "success": st.success, "info": st.info}


def show_notices(ss, area: str) -> None:
    """Show (once) the messages the actions queued for this area."""
    for kind, message in session_of(ss).take_notices(area):
        _SHOW.get(kind, st.info)(message)


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, theme=None)
