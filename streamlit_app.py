"""Char-RNN Playground: train a character-level RNN live in the browser.

    streamlit run streamlit_app.py

The page is thin: ui/session/ holds the visitor's runs and every action on them, ui/figures/
builds the charts, ui/panels/ draws the widgets (the only code that imports streamlit), and
rnn_core does the maths.
"""
from pathlib import Path

from ui.session.cluster import pin_blas

pin_blas("page-server")  # one BLAS thread in the page process, whatever OPENBLAS_NUM_THREADS says (each worker pins its own)

import streamlit as st  # noqa: E402

# A local icon: a ":material/..." icon makes the browser fetch it from Google Fonts, which fails offline.
ICON = str(Path(__file__).with_name("assets") / "favicon.png")
st.set_page_config(page_title="Char-RNN Playground", page_icon=ICON, layout="wide")

from ui.panels.page import render_page  # noqa: E402  (after set_page_config)

render_page()
