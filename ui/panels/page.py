"""The page: which panel goes where. This file only arranges the panels of ui/panels/.

Layout, top to bottom:
    header and one-line intro
    controls (Train, Play/Pause, Reset, pending settings, long-click progress)    full reruns
    compare section (presets, the runs, which one the panels show)
    the live fragment (reruns alone twice a second during Play; it only reads the workers' mirrors):
        readouts (or one card per run) · loss chart · probe text · the chosen look-inside view
    Generate
    sidebar: text · model (applies on Reset) · optimizer (applies now) · checkpoint · saved runs

A new look-inside view: a file in ui/panels/look_inside/ and one line in its VIEWS.
"""
from __future__ import annotations

import streamlit as st

from ..session import state, training
from ..session.pool import Busy
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
from .workers import server_pool

BUSY_RETRY_S = 3.0   # a visitor in the queue asks again this often (the pool keeps the place ~30 s)

INTRO = ("**min-char-rnn** is Andrej Karpathy's 100-line program that shows how little a network needs to learn "
         "to write: it reads a text one character at a time, keeps a memory of what it has read (the hidden "
         "state), guesses the next character, and after every few dozen characters nudges its weights so the right "
         "guesses get likelier. Nothing about words or grammar is built in. Here it runs live: pick a text in the "
         "sidebar, press **Train** or **Play**, and watch the loss fall, the hidden units light up and the "
         "generated text turn from noise into words.")


def render_page() -> None:
    ss = st.session_state
    sess = session_of(ss, server_pool())   # the session and the widget defaults, made once per browser tab
    st.title("Char-RNN Playground")
    page_style()
    st.markdown(INTRO)
    try:
        runs.start(ss)   # a new session: the workspace, run or settings in the URL
        state.init_state(ss)
    except Busy as busy:
        _wait_in_queue(busy)
        return
    sess.freeze()    # one copy of every run's mirror for this script run
    runs.render_run_notices(ss)
    render_controls(ss)
    render_compare(ss)
    live = st.fragment(_live, run_every=training.PLAY_INTERVAL_S if sess.play_on else None)
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


def _wait_in_queue(busy: Busy) -> None:
    """Every training worker is taken: say so, with the queue place, and ask again on a timer."""
    st.info(str(busy), icon=":material/hourglass_top:")

    def retry() -> None:
        try:
            state.init_state(st.session_state)
        except Busy as again:
            st.caption(f"Still waiting: number {again.position} in the queue.")
            return
        st.rerun()   # a worker is free: draw the whole page

    st.fragment(retry, run_every=BUSY_RETRY_S)()


def _live() -> None:
    """Readouts and charts, read from the workers' mirrors: the workers train, this only draws."""
    ss = st.session_state
    sess = session_of(ss)
    sess.freeze()
    if sess.play_ended():
        st.rerun()  # app scope: redraws the Play button and stops the redraws (run_every is read on full runs)
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
    # One view at a time (not st.tabs, which runs every tab's body): each is computed in the worker
    # and drawn here, and all of them would add ~100 ms to each redraw at H=100, mostly building figures.
    titles = [title for title, _ in VIEWS]
    chosen = st.segmented_control("View", titles, key="look_inside", default=titles[0], required=True,
                                  label_visibility="collapsed")
    view = dict(VIEWS).get(chosen, VIEWS[0][1])
    request = view.request(trainer, ss, pin)
    snap = session_of(ss).view(request)   # computed in the worker; during Play, after its next chunk
    with st.container(key="look_inside_view"):
        if request is not None and snap is None:
            st.caption("This view is being computed by the run's worker…")
        elif snap is not None and "error" in snap:
            st.warning(snap["error"])
        else:
            view(trainer, ss, pin, snap)
