"""Compare mode on the page: start a comparison, pick the run the panels show, per-run readouts.

`render_compare` sits under the controls (full reruns: its buttons change which runs exist);
`render_run_cards` replaces the single-run readouts inside the live fragment, so the per-run
iterations and losses move on every Play tick. The actions are in ui/session/compare.py.
"""
from __future__ import annotations

import html

import streamlit as st

from rnn_core import limits

from ..figures.base import color
from ..session import bounds, compare, state
from ..session.names import md_escape
from ..session.session import session_of
from .common import show_notices
from .controls import chars_rate

TITLE = ("Compare runs: RNN vs LSTM vs GRU, two learning rates, or "
         f"{compare.PRESETS[compare.PRESET_STREAMS].lower()}")


def render_compare(ss) -> None:
    """The compare section: starters when there is one run; the group and its actions otherwise."""
    sess = session_of(ss)
    runs = sess.runs
    if len(runs) == 1:
        with st.expander(TITLE, icon=":material/compare_arrows:"):
            _starters(ss)
            show_notices(ss, "compare")
        return
    names = compare.names(ss)
    if ss.get("active_run") != sess.active:
        ss["active_run"] = sess.active  # the active run changed elsewhere (e.g. a Reset)
    with st.container(border=True, key="compare_panel"):
        st.markdown(f"##### :material/compare_arrows: Comparing {len(runs)} runs")
        _catch_up(ss)
        st.caption(f"Same text (“{md_escape(runs[0].source)}”), trained together: **Train** and **Play** advance "
                   "every run by the same number of iterations, **Reset** restarts them all. The loss chart overlays "
                   "their curves, **Generate** writes one sample per run.")
        st.radio("The panels below (heatmap, next-character bars, the other views, the sidebar's settings and the "
                 "checkpoint) show:", list(range(len(runs))), key="active_run", horizontal=True,
                 format_func=lambda i: names[i] if i < len(names) else str(i),
                 on_change=compare.on_pick, args=(ss,),
                 help="Changing the optimizer settings in the sidebar changes this run only.")
        a = sess.active
        with st.container(horizontal=True, key="compare_actions"):  # wraps rather than cutting the labels
            st.button(f"Remove {names[a]}", key="compare_remove", icon=":material/close:",
                      on_click=compare.remove_active, args=(ss,), help="Drop the run shown below; the others go on.")
            st.button("Add a run with the sidebar settings", key="compare_add", icon=":material/add:",
                      on_click=compare.add_current, args=(ss,), disabled=len(runs) >= state.MAX_RUNS,
                      help=_ADD_HELP if len(runs) < state.MAX_RUNS else f"At most {state.MAX_RUNS} runs: remove one first.")
            st.button(f"Leave compare mode (keep {names[a]})", key="compare_leave", icon=":material/logout:",
                      on_click=compare.leave, args=(ss,), help="Keep only the run shown below, with its training so far.")
        show_notices(ss, "compare")
        with st.expander("Start a different comparison (every run from iteration 0)"):
            _starters(ss, add=False)


_ADD_HELP = ("A new run on the same text with the settings in the sidebar, e.g. change Cell to LSTM first (they "
             "apply to the new run, not to the current one). If the others have trained already, it trains up "
             f"to their iteration first (at most {limits.MAX_ITERS_PER_CLICK:,}), so all curves start together.")


def _starters(ss, add: bool = True) -> None:
    """The two presets, the second learning rate, and (with one run) "add a run"."""
    if "compare_lr2" not in ss:
        ss["compare_lr2"] = compare.default_lr2(float(ss["learning_rate"]))
    st.caption("Up to three runs on the same text with the same seed and the sidebar's hidden size, sequence length "
               "and optimizer, trained together by Train and Play. The loss chart overlays their curves, Generate "
               "writes one sample per run side by side, and you pick the run the heatmap and the other views show.")
    row = st.container(horizontal=True, vertical_alignment="bottom", key="compare_starters" if add else None)
    row.button(compare.PRESETS[compare.PRESET_CELLS], key="compare_cells", icon=":material/view_column:",
               on_click=compare.start_preset, args=(ss, compare.PRESET_CELLS),
               help="Three runs, one per cell, identical otherwise: which learns this text fastest, "
                    "per iteration and per second?")
    row.button(compare.PRESETS[compare.PRESET_LR], key="compare_lr", icon=":material/tune:",
               on_click=compare.start_preset, args=(ss, compare.PRESET_LR),
               help="Two runs of the sidebar's cell: the sidebar's learning rate and the second one.")
    row.button(compare.PRESETS[compare.PRESET_STREAMS], key="compare_streams", icon=":material/stacks:",
               on_click=compare.start_preset, args=(ss, compare.PRESET_STREAMS),
               help="Two runs of the sidebar's model: min-char-rnn's settings (one stream, learning rate 0.1) and "
                    "the fast preset's (many streams read the text in parallel, learning rate 0.05). Per iteration "
                    "the streams read more text; the cards show characters per second.")
    row.number_input("Second learning rate", step=0.01, format="%.5g", key="compare_lr2", width=170,
                     on_change=bounds.clamp, args=(ss, "compare_lr2", 1e-5, 100.0, "compare", "Second learning rate"),
                     help="For “Two learning rates”; the first is the sidebar's.")
    if add:
        row.button("Add a run with the sidebar settings", key="compare_add", icon=":material/add:",
                   on_click=compare.add_current, args=(ss,), help=_ADD_HELP)


def _catch_up(ss) -> None:
    """A run added to a group that has trained trains up to the others first (progress bar).

    Drawn inside the compare section, whose element count never changes: an element that comes and
    goes above the live fragment would shift the fragment's place in the page between runs.
    """
    sess = session_of(ss)
    gaps = sess.behind()
    if not gaps:
        return
    total = sum(g for _, g in gaps)
    bar = st.progress(0.0, text=f"The new run catches up with the others: {total:,} iterations…")
    sess.catch_up(lambda done, n: bar.progress(min(1.0, done / n), text=f"Catching up: {done:,} / {n:,} iterations"))
    sess.freeze()
    bar.empty()


def render_run_cards(ss) -> None:
    """Compare mode's readouts: one card per run, in its curve's colour; the shown run marked."""
    rows = compare.readouts(ss)
    for col, r in zip(st.columns(len(rows)), rows):
        with col.container(border=True, key=f"run_card_{r['index']}"):
            mark = " · shown below" if r["active"] else ""
            st.markdown(f'<span style="color:{color(r["index"])};font-size:1.3em">●</span> **{html.escape(r["name"])}**'
                        f'<span style="color:#888">{mark}</span>', unsafe_allow_html=True)
            with st.container(horizontal=True, gap="medium"):  # side by side when they fit, else stacked
                st.metric("Iteration", f"{r['iteration']:,}", width="content")
                st.metric("Smooth loss (min-char-rnn)", f"{r['smooth_loss']:.2f}", width="content",
                          help="Nats per window, averaged as 0.999·old + 0.001·new, as min-char-rnn prints it.")
            if r["error"]:
                st.caption(":red[:material/error: diverged: " + ("needs Reset" if r["needs_reset"] else
                           "lower its learning rate") + "]")
            else:
                st.caption(f"{r['bits_per_char']:.3f} bits per character · {r['speed']:,.0f} it/s · "
                           f"{chars_rate(r['speed'] * r['chars_per_iteration'])} chars/s")
