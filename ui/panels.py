"""The page: which panel goes where. Panels live in ui/panels_*.py; this file only arranges them.

Layout, top to bottom:
    header and one-line intro
    controls (Train, Play/Pause, Reset, pending settings, long-click progress)    full reruns
    the live fragment (reruns alone on every Play tick):
        readouts (st.metric) · loss chart · probe text · LOOK_INSIDE_TABS
    sampling panel (Generate)
    sidebar: text · model (applies on Reset) · optimizer (applies now) · checkpoint

Where later work plugs in:
  * more views of the network: append (title, render(trainer, ss, probe_input)) to LOOK_INSIDE_TABS;
    the chosen one runs inside the live fragment, so it updates on every Play tick.
  * compare mode (ui/panels_compare.py, ui/compare.py): `training.train` steps every run in ss["runs"] in
    lock step, the loss chart draws one curve per run, Generate one sample per run; single-run views
    show ss["trainer"] (the active run, picked with the `active_run` radio).
  * a run store / URL (?run=<id>): every Run has a run_id; `state.restore` installs a loaded trainer.
"""
from __future__ import annotations

import streamlit as st

from . import panels_runs, state, training
from .panels_compare import render_compare, render_run_cards
from .panels_charts import render_hidden_and_next, render_loss, render_probe_text
from .panels_controls import render_controls, render_readouts
from .panels_data import render_checkpoint, render_data
from .panels_insight import render_neuron_explorer, render_surprise
from .panels_insight_model import render_gradient_flow, render_microscope
from .panels_sampling import render_samples_over_time, render_sampling
from .panels_settings import render_settings

INTRO = ("A small recurrent network learns to predict the next character of a text, as in Karpathy's "
         "min-char-rnn. Pick a text in the sidebar, press **Train** or **Play**, and watch the loss fall, the "
         "hidden units light up and the generated text turn from noise into words.")

# (title, render(trainer, ss, probe_input)): the look-inside views under the loss chart; a segmented
# control (key "look_inside") picks one, and only that one runs.
LOOK_INSIDE_TABS = [
    ("Hidden state & next character", render_hidden_and_next),
    ("Neuron explorer", render_neuron_explorer),
    ("Surprise", render_surprise),
    ("Gradient flow", render_gradient_flow),
    ("Microscope: one step", render_microscope),
    ("Samples over time", lambda trainer, ss, pin: render_samples_over_time(trainer, ss)),
]


def render_page() -> None:
    ss = st.session_state
    panels_runs.start(ss)  # a new session: the workspace, run or settings in the URL
    state.init_state(ss)
    st.title("Char-RNN Playground")
    st.markdown(INTRO)
    panels_runs.render_run_notices(ss)
    render_controls(ss)
    render_compare(ss)  # compare mode (issue 6): presets, the runs, which one the panels show
    live = st.fragment(_live, run_every=training.PLAY_INTERVAL_S if ss.get("playing") else None)
    live()
    st.divider()
    render_sampling(ss)
    with st.sidebar:
        render_data(ss)
        st.divider()
        render_settings(ss)
        st.divider()
        render_checkpoint(ss)
        panels_runs.render_saved_runs(ss)


def _live() -> None:
    """Readouts and charts; while playing, each run of this fragment first trains one batch."""
    ss = st.session_state
    if ss.get("playing"):
        out = training.tick(ss)
        if out.error:
            st.rerun()  # app scope: redraws the Play button and stops the ticks (run_every is read on full runs)
    else:  # e.g. just paused: a tick on an older script thread may still be training (state.training_lock)
        with state.training_lock(ss):
            pass
    panels_runs.render_run_status(ss)  # autosave, the URL, a "could not save" warning
    trainer = ss["trainer"]
    if len(state.runs(ss)) > 1:
        render_run_cards(ss)  # one card per run: iteration, smooth loss
    else:
        render_readouts(trainer)
    render_loss(ss)
    st.markdown("##### Look inside the network")
    pin = render_probe_text(ss, trainer)
    # One view at a time (not st.tabs, which runs every tab's body): all of them would add ~100 ms
    # to each Play tick at H=100, mostly building figures.
    titles = [title for title, _ in LOOK_INSIDE_TABS]
    chosen = st.segmented_control("View", titles, key="look_inside", default=titles[0], required=True,
                                  label_visibility="collapsed")
    with st.container(key="look_inside_view"):
        dict(LOOK_INSIDE_TABS).get(chosen, LOOK_INSIDE_TABS[0][1])(trainer, ss, pin)
