"""The training controls at the top of the page, and the live readouts."""
from __future__ import annotations

import streamlit as st

from rnn_core import limits

from ..session import state, training
from ..session.names import md_escape
from ..session.session import Run, session_of
from .common import show_notices


def render_controls(ss) -> None:
    """Iterations per click, Train, Play/Pause, Reset; the pending-settings notice; long-click progress."""
    sess = session_of(ss)
    pending = state.pending_changes(ss)
    playing = sess.playing
    cols = st.columns([1.4, 1, 1, 1.45, 3.2], vertical_alignment="bottom")
    cols[0].number_input(
        f"Iterations (max {limits.MAX_ITERS_PER_CLICK:,})", key="n_iters", min_value=1,
        max_value=limits.MAX_ITERS_PER_CLICK, step=100,
        help="How many training steps one Train click runs. Play ignores this: it trains as fast as the "
             "machine allows, in batches sized to keep the page responsive.",
    )
    clicked = cols[1].button("Train", key="train", type="primary", icon=":material/fast_forward:",
                             width="stretch", help="Run the iterations above once.")
    cols[2].button("Pause" if playing else "Play", key="play", icon=":material/pause:" if playing else ":material/play_arrow:",
                   on_click=state.set_playing, args=(ss, not playing), width="stretch",
                   help="Keep training until you press Pause, as fast as the machine allows: the run trains in a "
                        "worker of its own and the charts redraw twice a second (the iterations box is for Train only).")
    cols[3].button("Reset & apply" if pending else "Reset", key="reset", icon=":material/restart_alt:",
                   type="primary" if pending else "secondary", on_click=state.reset, args=(ss,),
                   width="stretch",
                   help="Start the model again from random weights, with the settings in the sidebar.")
    cols[4].caption(run_summary(sess.active_run))

    # One container for everything that comes and goes (notices, progress), so the live panels
    # below keep their place in the page and stay visible, greyed, during a long click.
    with st.container():
        if pending:
            changes = "; ".join(f"{label} **{now} → {new}**" for label, now, new in pending)
            st.warning(f"Changed in the sidebar: {changes}. These apply when you press **Reset & apply**, "
                       "which starts a new model from scratch. Until then the current model keeps its settings.",
                       icon=":material/pending:")
        if clicked:
            _train_click(ss)
        show_notices(ss, "controls")
        for run, message in zip([r for r in sess.runs if r.error], sess.run_errors()):
            hint = ("press **Reset** (top) to start afresh, after lowering the learning rate or turning the "
                    "gradient clip on in the sidebar under **Optimizer**" if run.needs_reset else
                    "lower the learning rate or turn the gradient clip on in the sidebar under **Optimizer**, "
                    "then train on; **Reset** starts the model afresh")
            st.error(f"{message}\n\nHint: {hint}. Play was paused; the run is kept as it was.",
                     icon=":material/error:")


def _train_click(ss) -> None:
    n = int(ss["n_iters"])
    long = training.shows_progress(session_of(ss), n)   # expected to take over ~1 s at the measured speed
    bar = st.progress(0.0, text=f"Training {n:,} iterations…") if long else None

    def on_progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Training: {done:,} / {total:,} iterations")

    training.train_click(ss, on_progress if bar is not None else None)
    session_of(ss).freeze()   # the panels below show the runs after the click
    if bar is not None:
        bar.empty()


def run_summary(run: Run) -> str:
    tr = run.trainer
    c = tr.config
    clip = f"clip ±{c.clip:g}" if c.clip else "no clipping"
    return (f"**Text:** {md_escape(run.source)} · **Model:** {c.cell.upper()}, {c.hidden_size} hidden units, "
            f"windows of {c.seq_length} chars, seed {c.seed} · **Optimizer:** {c.optimizer}, "
            f"learning rate {c.learning_rate:g}, {clip}")


def render_readouts(trainer) -> None:
    """Iteration, smooth loss, bits per character, speed, characters seen."""
    c = st.columns(5)
    T = trainer.config.seq_length
    c[0].metric("Iteration", f"{trainer.iteration:,}", help="Training steps so far: one step = one window "
                f"of {T} characters, forward, backward and one update.")
    c[1].metric("Smooth loss", f"{trainer.smooth_loss:.2f}",
                help=f"Loss in nats per window of {T} characters, smoothed over ~1000 steps "
                     "(0.999·old + 0.001·new), as min-char-rnn prints it.")
    c[2].metric("Bits per character", f"{trainer.bits_per_char:.3f}",
                help="The smooth loss per character in bits: how many yes/no questions the model still "
                     f"needs per character. A uniform guess over {trainer.vocab.size} characters needs "
                     f"{_log2(trainer.vocab.size):.2f}.")
    c[3].metric("Speed", f"{trainer.iters_per_second:,.0f} it/s",
                help="Iterations per second, by the wall clock over the last few seconds of training.")
    c[4].metric("Characters seen", _compact(trainer.chars_seen), f"{trainer.epochs:.2f} epochs",
                delta_color="off", delta_arrow="off", help="Characters read in training; one epoch = the whole text once.")


def _log2(v: int) -> float:
    import math
    return math.log2(v)


def _compact(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    if n >= 10_000:
        return f"{n / 1e3:.1f} k"
    return f"{n:,}"
