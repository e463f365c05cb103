"""Look inside: the samples the trainer recorded while it learned, with a replay slider."""
from __future__ import annotations

import streamlit as st

from rnn_core import analysis as A

from ...figures.insight import sample_html

MAX_SAMPLES_SHOWN = 12
SAMPLE_BOX_PX = 150  # fixed, scrollable: samples with many line breaks stay compact


def request_samples_over_time(trainer, ss, pin) -> None:
    return None   # the samples are in the run's mirror: no worker call


def render_samples_over_time(trainer, ss, pin=None, snap=None) -> None:
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
