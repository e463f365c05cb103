"""Saved runs on the page: messages about them, autosave + URL after training, the sidebar list.

The logic lives in ui/session/runs.py; this file only draws it.
"""
from __future__ import annotations

import time
from urllib.parse import urlencode

import streamlit as st

from ..session import runs
from ..session.session import session_of
from .common import show_notices


def start(ss) -> None:
    """First thing on every full run: a new session reads its workspace, run or settings from the URL."""
    runs.start_session(ss, st.query_params)


def render_run_notices(ss) -> None:
    """What happened to the link's run, opens, deletes (queued by ui/session/runs.py)."""
    show_notices(ss, "runs")


def render_run_status(ss) -> None:
    """On every redraw: note what the workers saved, update the URL, say if saving failed or a worker was lost."""
    runs.autosave(ss)
    sess = session_of(ss)
    group = sess.group
    if group is not None and group.notice:
        st.warning(group.notice, icon=":material/restore:")
    if group is not None and group.error and not any(r.error for r in sess.runs):
        st.warning(group.error, icon=":material/hourglass_top:")
    qp = st.query_params
    new = runs.merged_query(qp.to_dict(), runs.wanted_query(ss))
    if new is not None:
        qp.from_dict(new)
    save_error = session_of(ss).save_error
    if save_error:
        st.warning(save_error, icon=":material/save:")


def draw_guarded(ss, draw, *args) -> None:
    """Draw part of the active run; if it raises, say so in its place, not as a traceback, and keep
    that run from being saved over its last good file (its link then still opens what worked)."""
    try:
        draw(*args)
    except Exception as err:  # noqa: BLE001  Streamlit's rerun/stop signals are BaseExceptions and pass
        why = runs.mark_broken(ss, err)
        st.error(f"This part of the page cannot be drawn for this run: {runs.md_escape(why)}. The run is no longer "
                 "saved automatically, so its last save and the link to it stay as they were; press **Reset** "
                 "to start afresh, or download a checkpoint to keep this state anyway.", icon=":material/error:")


def render_saved_runs(ss) -> None:
    """Sidebar expander: this workspace's saved runs, each with Open and Delete (confirmed)."""
    saved = runs.list_runs(ss)
    with st.expander(f"Your saved runs ({len(saved)})", icon=":material/history:"):
        st.caption(
            "Runs are saved on this server as you train (every click, every few seconds of Play) and listed "
            "for your workspace, the `ws=` part of the address. Bookmark the page to find them again. "
            "Sharing the full address shares your workspace: whoever opens it can open, train and delete "
            "these runs. To share only the settings, use the link at the bottom.")
        in_use = runs.open_ids(ss)
        confirm = session_of(ss).confirm_delete
        now = time.time()
        if not saved:
            st.info("Nothing saved yet: a run is saved once it has trained.")
        for info in saved:
            rid = info.run_id
            st.markdown(runs.describe(info, now) + (" · **open now**" if rid in in_use else ""))
            if confirm == rid:
                st.warning(f"Delete this run ({rid}) for good?")
                c = st.columns(2)
                c[0].button("Yes, delete", key=f"confirm_delete_{rid}", type="primary", width="stretch",
                            on_click=runs.delete_run, args=(ss, rid))
                c[1].button("Cancel", key=f"cancel_delete_{rid}", width="stretch",
                            on_click=runs.cancel_delete, args=(ss,))
                continue
            c = st.columns(2)
            c[0].button("Open", key=f"open_run_{rid}", icon=":material/folder_open:", width="stretch",
                        disabled=rid in in_use or not info.ok, on_click=runs.open_run, args=(ss, rid))
            c[1].button("Delete", key=f"delete_run_{rid}", icon=":material/delete:", width="stretch",
                        disabled=rid in in_use, on_click=runs.ask_delete, args=(ss, rid),
                        help="The run open now cannot be deleted." if rid in in_use else None)
        st.markdown("**Share these settings**")
        st.caption("This link starts the same run from scratch (same text, settings and seed) for anyone; "
                   "it carries no workspace and no saved run. An uploaded text cannot travel in a link: it "
                   "opens on the default text.")
        link = (st.context.url or "") + "?" + urlencode(runs.settings_query(ss))
        st.markdown(f"`{link}`")  # a code span, not st.code: at.code is the sample texts' in the tests
