"""The probe text box that the look-inside views read."""
from __future__ import annotations

import streamlit as st

from rnn_core import limits

from ..session import using
from ..session.names import md_escape


def render_probe_text(ss, trainer) -> using.ProbeInput:
    """The probe text box shared by the look-inside views; warns about characters the model cannot read."""
    st.text_area(f"Probe text: what the network reads below (up to {limits.MAX_PROBE_CHARS} characters; "
                 "Ctrl+Enter applies)", key="probe_text", max_chars=limits.MAX_PROBE_CHARS, height=76,
                 help="Any text made of characters from the training text. The model reads it from a zero "
                      "state, one character at a time.")
    pin = using.clean_probe_text(trainer, ss.get("probe_text", ""))
    if pin.dropped:
        st.warning(f"Left out, because the training text never uses them: {md_escape(using.describe_chars(pin.dropped))}.")
    if pin.truncated:
        st.warning(f"Only the first {limits.MAX_PROBE_CHARS} characters are shown.")
    if not pin.text:
        st.info("Type a few characters of the training text into the probe box to look inside the network.")
    return pin
