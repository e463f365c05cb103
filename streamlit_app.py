"""Char-RNN Playground: train a character-level RNN live in the browser.

    streamlit run streamlit_app.py

The page is thin: ui/state.py holds the session's runs and the actions on them (with
ui/training.py, ui/uploads.py, ui/using.py and ui/compare.py), ui/panels*.py draw the widgets
and charts, rnn_core does the maths.
"""
import streamlit as st

st.set_page_config(page_title="Char-RNN Playground", page_icon=":material/neurology:", layout="wide")

from ui.panels import render_page  # noqa: E402  (after set_page_config)

render_page()
