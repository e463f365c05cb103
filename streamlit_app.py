"""Char-RNN Playground: placeholder page until the app lands."""
import streamlit as st

st.set_page_config(page_title="Char-RNN Playground", layout="wide")
st.title("Char-RNN Playground")
st.write("The live training playground is being built. The engine lives in `rnn_core/`.")
