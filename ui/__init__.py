"""Streamlit-facing parts of the playground: state, panels and pure figure builders."""
