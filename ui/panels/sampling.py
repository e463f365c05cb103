"""Generate: the sampling settings, the button, and the text (one column per run in compare mode)."""
from __future__ import annotations

import html

import streamlit as st

from rnn_core import char_label, limits

from ..figures.base import color
from ..session import bounds, compare
from ..session.names import md_escape
from ..session.session import session_of
from .common import show_notices

SIDE_BY_SIDE_PX = 260  # compare mode: the runs' samples side by side, one height


def render_sampling(ss) -> None:
    """Seed char, length, temperature, top-k, seed, greedy; Generate; the text and its download."""
    sess = session_of(ss)
    tr = sess.trainer
    chars = tr.vocab.chars
    if ss.get("seed_char") not in chars:
        ss["seed_char"] = tr.text[0]
    if int(ss.get("top_k", 0)) > tr.vocab.size:
        ss["top_k"] = tr.vocab.size
    st.markdown("##### Generate text")
    st.caption("The model writes one character at a time: it reads the seed character, draws the next one from "
               "its probabilities, reads that, and so on.")
    greedy = bool(ss.get("greedy"))
    c = st.columns([1.2, 1.2, 1.8, 1.2, 1.2], vertical_alignment="bottom")
    c[0].selectbox("Seed character", chars, key="seed_char", format_func=char_label,
                   help="The first character the model reads.")
    c[1].number_input(f"Length (1–{limits.MAX_SAMPLE_LENGTH:,})", step=50, key="sample_length",
                      on_change=bounds.clamp, args=(ss, "sample_length", 1, limits.MAX_SAMPLE_LENGTH, "sample", "Length"),
                      help="Characters to generate after the seed.")
    c[2].slider("Temperature", min_value=0.05, max_value=2.0, step=0.05, key="temperature", disabled=greedy,
                help="Divides the scores before the softmax: below 1 the text is safer and more repetitive, "
                     "above 1 wilder.")
    c[3].number_input(f"Top-k (0 = all {tr.vocab.size})", step=1, key="top_k", disabled=greedy,
                      on_change=bounds.clamp, args=(ss, "top_k", 0, tr.vocab.size, "sample", "Top-k"),
                      help=f"Draw only among the k most likely characters (this text has {tr.vocab.size}).")
    c[4].number_input("Sampling seed", step=1, key="sample_seed",
                      on_change=bounds.clamp, args=(ss, "sample_seed", 0, 2**31 - 1, "sample", "Sampling seed"),
                      help="The same seed and model give the same text.")
    row = st.columns([1, 4], vertical_alignment="center")
    row[0].button("Generate", key="generate", type="primary", icon=":material/edit_note:",
                  on_click=compare.generate_all, args=(ss,), width="stretch",
                  help="One sample per run in compare mode, all with the same seed character and settings.")
    row[1].toggle("Greedy: always take the most likely character", key="greedy",
                  help="Ignores temperature and top-k; the text tends to loop.")
    show_notices(ss, "sample")
    sample = sess.sample
    if sess.is_compare and compare.samples(ss):
        render_samples_side_by_side(ss)
    elif sample:
        shown = sess.sample_seed_char + sample
        st.code(shown, language=None, wrap_lines=True)
        st.caption(f"The first character (‘{md_escape(char_label(sess.sample_seed_char))}’) is the seed; "
                   f"the {len(sample):,} after it are generated.")
        st.download_button("Download this text", data=shown.encode("utf-8"), file_name="char-rnn-sample.txt",
                           mime="text/plain", key="download_sample", on_click="ignore",
                           icon=":material/download:")


def render_samples_side_by_side(ss) -> None:
    """Compare mode: the last Generate of every run, in columns, each under its name and curve colour."""
    shown = compare.samples(ss)
    cols = st.columns(len(shown))
    for col, (i, name, seed_char, text) in zip(cols, shown):
        with col:
            st.markdown(f'<span style="color:{color(i)};font-size:1.2em">●</span> **{html.escape(name)}**',
                        unsafe_allow_html=True)
            st.code(seed_char + text, language=None, wrap_lines=True, height=SIDE_BY_SIDE_PX)
    seed_char = shown[0][2]
    st.caption(f"Each run continues the same seed character (‘{md_escape(char_label(seed_char))}’) with the same temperature, "
               "top-k and sampling seed: the differences come from what each model has learned.")
    st.download_button("Download these texts", key="download_sample", on_click="ignore", icon=":material/download:",
                       data="\n\n".join(f"== {name} ==\n{sc}{text}" for _, name, sc, text in shown).encode("utf-8"),
                       file_name="char-rnn-samples.txt", mime="text/plain")
