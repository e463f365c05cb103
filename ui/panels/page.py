"""The page: which panel goes where. This file only arranges the panels of ui/panels/.

Layout, top to bottom:
    header and one-line intro
    controls (Train, Play/Pause, Reset, pending settings, long-click progress)    full reruns
    compare section (presets, the runs, which one the panels show)
    the live fragment (reruns alone on every Play tick):
        readouts (or one card per run) · loss chart · probe text · the chosen look-inside view
    Generate
    sidebar: text · model (applies on Reset) · optimizer (applies now) · checkpoint · saved runs

A new look-inside view: a file in ui/panels/look_inside/ and one line in its VIEWS.
"""
from __future__ import annotations

import streamlit as st

from ..session import state, training
from ..session.session import session_of
from . import runs
from .common import page_style
from .compare import render_compare, render_run_cards
from .controls import render_controls, render_readouts
from .data import render_checkpoint, render_data
from .look_inside import VIEWS
from .loss import render_loss
from .probe import render_probe_text
from .sampling import render_sampling
from .settings import render_settings

INTRO = ("**min-char-rnn** is Andrej Karpathy's 100-line program that shows how little a network needs to learn "
         "to write: it reads a text one character at a time, keeps a memory of what it has read (the hidden "
         "state), guesses the next character, and after every few dozen characters nudges its weights so the right "
         "guesses get likelier. Nothing about words or grammar is built in. Here it runs live: pick a text in the "
         "sidebar, press **Train** or **Play**, and watch the loss fall, the hidden units light up and the "
         "generated text turn from noise into words.")


def render_page() -> None:
    ss = st.session_state
    session_of(ss)   # the session and the widget defaults, made once per browser tab
    runs.start(ss)   # a new session: the workspace, run or settings in the URL
    state.init_state(ss)
    st.title("Char-RNN Playground")
    page_style()
    st.markdown(INTRO)
    runs.render_run_notices(ss)
    render_controls(ss)
    render_compare(ss)
    live = st.fragment(_live, run_every=training.PLAY_INTERVAL_S if session_of(ss).playing else None)
    live()
    st.divider()
    render_sampling(ss)
    with st.sidebar:
        render_data(ss)
        st.divider()
        render_settings(ss)
        st.divider()
        render_checkpoint(ss)
        runs.render_saved_runs(ss)


def _live() -> None:
    """Readouts and charts; while playing, each run of this fragment first trains one batch."""
    ss = st.session_state
    sess = session_of(ss)
    if sess.playing:
        out = training.tick(ss)
        if out.error:
            st.rerun()  # app scope: redraws the Play button and stops the ticks (run_every is read on full runs)
    else:  # e.g. just paused: a tick on an older script thread may still be training (Session.lock)
        with sess.lock:
            pass
    status = st.container()  # filled last: a run is saved (and named in the URL) only once it was drawn
    trainer = sess.trainer
    if sess.is_compare:
        render_run_cards(ss)  # one card per run: iteration, smooth loss
    else:
        render_readouts(trainer)
    render_loss(ss)
    st.markdown("##### Look inside the network")
    runs.draw_guarded(ss, _look_inside, ss, trainer)
    with status:
        runs.render_run_status(ss)  # autosave, the URL, a "could not save" warning


def _look_inside(ss, trainer) -> None:
    pin = render_probe_text(ss, trainer)
    # One view at a time (not st.tabs, which runs every tab's body): all of them would add ~100 ms
    # to each Play tick at H=100, mostly building figures.
    titles = [title for title, _ in VIEWS]
    chosen = st.segmented_control("View", titles, key="look_inside", default=titles[0], required=True,
                                  label_visibility="collapsed")
    with st.container(key="look_inside_view"):
        dict(VIEWS).get(chosen, VIEWS[0][1])(trainer, ss, pin)
