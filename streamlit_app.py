"""Char-RNN Playground: train a character-level RNN live in the browser.

    streamlit run streamlit_app.py

The page is thin: ui/state.py holds the session's runs and the actions on them (with
ui/training.py, ui/uploads.py, ui/using.py and ui/compare.py), ui/panels*.py draw the widgets
and charts, rnn_core does the maths.
"""
from pathlib import Path

import streamlit as st

# A local icon: a ":material/..." icon makes the browser fetch it from Google Fonts, which fails offline.
ICON = str(Path(__file__).with_name("assets") / "favicon.png")
st.set_page_config(page_title="Char-RNN Playground", page_icon=ICON, layout="wide")

from ui.panels import render_page  # noqa: E402  (after set_page_config)

render_page()
