"""The training controls at the top of the page, and the live readouts."""
from __future__ import annotations

import streamlit as st

from rnn_core import limits

from ..session import bounds, presets, state, training
from ..session.names import md_escape
from ..session.session import Run, session_of
from .common import show_notices


SMOOTH_LOSS_LABEL = "Smooth loss (min-char-rnn)"
ITERS_TOO_MANY = ("One Train click runs at most {bound} iterations; {typed} was typed, so the box now says {bound}. "
                  "To train longer, click Train again or press Play.")


def render_controls(ss) -> None:
    """Iterations per click, Train, Play/Pause, Reset; the pending-settings notice; long-click progress."""
    sess = session_of(ss)
    pending = state.pending_changes(ss)
    playing = sess.playing
    # A row that wraps instead of squeezing: at 1024 px with the sidebar open, five columns cut the
    # buttons to "T" and "P". Each control keeps its natural width; the run's summary goes below.
    with st.container(horizontal=True, vertical_alignment="bottom", key="controls_row"):
        st.number_input(
            f"Iterations (max {limits.MAX_ITERS_PER_CLICK:,})", key="n_iters", step=100, width=190,
            on_change=bounds.clamp, args=(ss, "n_iters", 1, limits.MAX_ITERS_PER_CLICK, "controls",
                                          "Iterations", ITERS_TOO_MANY),
            help="How many training steps one Train click runs. Play ignores this: it trains as fast as the "
                 "machine allows, in batches sized to keep the page responsive.",
        )
        clicked = st.button("Train", key="train", type="primary", icon=":material/fast_forward:",
                            help="Run the iterations on the left once.")
        st.button("Pause" if playing else "Play", key="play", icon=":material/pause:" if playing else ":material/play_arrow:",
                  on_click=state.set_playing, args=(ss, not playing),
                  help="Keep training until you press Pause, as fast as the machine allows: the run trains in a "
                       "worker of its own and the charts redraw twice a second (the iterations box is for Train only).")
        st.button("Reset & apply" if pending else "Reset", key="reset", icon=":material/restart_alt:",
                  type="primary" if pending else "secondary", on_click=state.reset, args=(ss,),
                  help="Start the model again from random weights, with the settings in the sidebar.")
    st.caption(run_summary(sess.active_run))

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
    t = training.expected_seconds(session_of(ss), n)
    about = f" (about {t:,.0f} s at {n / t:,.0f} it/s)" if t else ""
    bar = st.progress(0.0, text=f"Training {n:,} iterations{about}…") \
        if training.wants_progress(session_of(ss), n) else None

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
            f"learning rate {c.learning_rate:g}, {clip} · **Streams:** {presets.streams_phrase(c)} · "
            f"**Settings:** {presets.preset_phrase(c)}")


def render_readouts(trainer) -> None:
    """Iteration, min-char-rnn's smooth loss, bits per character, speed, characters seen.

    A row that wraps, each readout as wide as its text: five equal columns cut "Bits per character"
    and the values on a laptop with the sidebar open.
    """
    T = trainer.config.seq_length
    with st.container(horizontal=True, gap="medium", key="readouts"):
        st.metric("Iteration", f"{trainer.iteration:,}", width="content", help="Training steps so far: one step "
                  f"= one window of {T} characters, forward, backward and one update.")
        st.metric(SMOOTH_LOSS_LABEL, f"{trainer.smooth_loss:.2f}", width="content",
                  help=f"The number min-char-rnn prints as it trains: the loss in nats per window of {T} characters, "
                       "averaged as 0.999·old + 0.001·new from the uniform guess. It trails the model by about a "
                       "thousand iterations; the bold line of the loss chart follows it closely.")
        st.metric("Bits per character", f"{trainer.bits_per_char:.3f}", width="content",
                  help="That smooth loss per character in bits: how many yes/no questions the model still "
                       f"needs per character. A uniform guess over {trainer.vocab.size} characters needs "
                       f"{_log2(trainer.vocab.size):.2f}.")
        ips = trainer.iters_per_second
        B = trainer.config.batch_size
        st.metric("Speed", f"{ips:,.0f} it/s", f"{chars_rate(ips * B * T)} chars/s", width="content",
                  delta_color="off", delta_arrow="off",
                  help="Iterations per second, by the wall clock over the last few seconds of training, and "
                       f"characters read per second: it/s × {B} "
                       f"stream{'s' if B != 1 else ''} × {T} characters per window.")
        st.metric("Characters seen", _compact(trainer.chars_seen), f"{trainer.epochs:.2f} epochs", width="content",
                  delta_color="off", delta_arrow="off", help="Characters read in training, all streams together; one epoch = the whole text once.")


def _log2(v: int) -> float:
    import math
    return math.log2(v)


def chars_rate(x: float) -> str:
    """Characters per second, short: 930, 7.7k, 77k, 1.2M."""
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e4:
        return f"{x / 1e3:,.0f}k"
    if x >= 1e3:
        return f"{x / 1e3:.1f}k"
    return f"{x:,.0f}"


def _compact(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    if n >= 10_000:
        return f"{n / 1e3:.1f} k"
    return f"{n:,}"
