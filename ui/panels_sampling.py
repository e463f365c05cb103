"""Generating text from the model, and the samples recorded while it trained."""
from __future__ import annotations

import html

import streamlit as st

from rnn_core import analysis as A
from rnn_core import char_label, limits

from . import compare
from .figures_insight import sample_html
from .panels_common import show_notices

MAX_SAMPLES_SHOWN = 12
SAMPLE_BOX_PX = 150  # fixed, scrollable: samples with many line breaks stay compact
SIDE_BY_SIDE_PX = 260  # compare mode: the runs' samples side by side, one height


def render_sampling(ss) -> None:
    """Seed char, length, temperature, top-k, seed, greedy; Generate; the text and its download."""
    tr = ss["trainer"]
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
    c[1].number_input(f"Length (1–{limits.MAX_SAMPLE_LENGTH:,})", min_value=1, max_value=limits.MAX_SAMPLE_LENGTH,
                      step=50, key="sample_length", help="Characters to generate after the seed.")
    c[2].slider("Temperature", min_value=0.05, max_value=2.0, step=0.05, key="temperature", disabled=greedy,
                help="Divides the scores before the softmax: below 1 the text is safer and more repetitive, "
                     "above 1 wilder.")
    c[3].number_input(f"Top-k (0 = all {tr.vocab.size})", min_value=0, max_value=tr.vocab.size, step=1,
                      key="top_k", disabled=greedy, help="Draw only among the k most likely characters.")
    c[4].number_input("Sampling seed", min_value=0, max_value=2**31 - 1, step=1, key="sample_seed",
                      help="The same seed and model give the same text.")
    row = st.columns([1, 4], vertical_alignment="center")
    row[0].button("Generate", key="generate", type="primary", icon=":material/edit_note:",
                  on_click=compare.generate_all, args=(ss,), width="stretch",
                  help="One sample per run in compare mode, all with the same seed character and settings.")
    row[1].toggle("Greedy: always take the most likely character", key="greedy",
                  help="Ignores temperature and top-k; the text tends to loop.")
    show_notices(ss, "sample")
    sample = ss.get("sample", "")
    if compare.is_compare(ss) and compare.samples(ss):
        render_samples_side_by_side(ss)
    elif sample:
        shown = ss.get("sample_seed_char", "") + sample
        st.code(shown, language=None, wrap_lines=True)
        st.caption(f"The first character (‘{char_label(ss.get('sample_seed_char', ''))}’) is the seed; "
                   f"the {len(sample):,} after it are generated.")
        st.download_button("Download this text", data=shown.encode("utf-8"), file_name="char-rnn-sample.txt",
                           mime="text/plain", key="download_sample", on_click="ignore",
                           icon=":material/download:")


def render_samples_side_by_side(ss) -> None:
    """Compare mode: the last Generate of every run, in columns, each under its name and curve colour."""
    shown = compare.samples(ss)
    cols = st.columns(len(shown))
    for col, (name, color, seed_char, text) in zip(cols, shown):
        with col:
            st.markdown(f'<span style="color:{color};font-size:1.2em">●</span> **{html.escape(name)}**',
                        unsafe_allow_html=True)
            st.code(seed_char + text, language=None, wrap_lines=True, height=SIDE_BY_SIDE_PX)
    seed_char = shown[0][2]
    st.caption(f"Each run continues the same seed character (‘{char_label(seed_char)}’) with the same temperature, "
               "top-k and sampling seed: the differences come from what each model has learned.")
    st.download_button("Download these texts", key="download_sample", on_click="ignore", icon=":material/download:",
                       data="\n\n".join(f"== {name} ==\n{sc}{text}" for name, _, sc, text in shown).encode("utf-8"),
                       file_name="char-rnn-samples.txt", mime="text/plain")


def render_samples_over_time(trainer, ss) -> None:
    """The samples the trainer recorded at iterations 100, 300, 500 and every 1,000: newest first."""
    samples = trainer.samples
    st.caption(f"While training, the model writes a {trainer.SAMPLE_LENGTH}-character sample at iterations 100, "
               "300, 500 and then every 1,000: read them from noise to words.")
    if not samples:
        st.info("No samples yet: the first is written at iteration 100.")
        return
    render_sample_replay(ss, samples)
    if len(samples) > MAX_SAMPLES_SHOWN:
        keep = samples[:3] + samples[-(MAX_SAMPLES_SHOWN - 3):]
        st.caption(f"Showing {MAX_SAMPLES_SHOWN} of {len(samples)}: the first three and the latest.")
    else:
        keep = samples
    cols = st.columns(2)
    for i, (it, text) in enumerate(reversed(keep)):
        with cols[i % 2]:
            st.markdown(f"**Iteration {it:,}**")
            st.code(text, language=None, wrap_lines=True, height=SAMPLE_BOX_PX)


def render_sample_replay(ss, samples) -> None:
    """A slider over the recorded iterations and the sample written there (newest by default)."""
    its = A.sample_iterations(samples)
    if ss.get("sample_replay") not in its or ss.get("sample_replay") == ss.get("sample_replay_latest"):
        ss["sample_replay"] = its[-1]   # follow the newest sample unless the person slid back
    ss["sample_replay_latest"] = its[-1]
    if len(its) > 1:
        st.select_slider("Replay: the sample written at iteration", its, key="sample_replay",
                         format_func=lambda it: f"{it:,}",
                         help="Slide back and forth to watch the text turn from noise into words.")
    st.html(sample_html(*A.nearest_sample(samples, ss["sample_replay"])))
    st.markdown("**All recorded samples**, newest first")
