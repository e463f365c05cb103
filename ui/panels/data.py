"""Sidebar: the training text (built-in or uploaded), its statistics, and checkpoints."""
from __future__ import annotations

import streamlit as st

from assets.corpora import CORPORA
from rnn_core import char_label, limits

from ..session import state, uploads, using
from ..session.session import session_of
from .common import show_notices


def render_data(ss) -> None:
    tr = session_of(ss).trainer
    st.subheader("Text")
    st.selectbox("Training text", state.corpus_options(ss), key="corpus", on_change=state.switch_corpus,
                 args=(ss,), help="Changing the text starts a new run (download a checkpoint first to keep this one).")
    name = ss["corpus"]
    st.caption(CORPORA[name]["description"] if name in CORPORA else "Your own text.")
    st.file_uploader("…or upload your own text", type=["txt", "md"], key="upload",
                     on_change=uploads.upload_text, args=(ss,),
                     help="UTF-8 plain text. A good file starts a new run on it; a bad one changes nothing.")
    st.caption(f"Plain text (.txt, .md), at most {limits.MAX_UPLOAD_MB} MB, {limits.MAX_TEXT_CHARS:,} characters "
               f"and {limits.MAX_VOCAB} distinct characters.")
    _file_error(ss, "upload")
    show_notices(ss, "data")
    c = st.columns(2)
    c[0].metric("Characters", f"{len(tr.text):,}")
    c[1].metric("Vocabulary", f"{tr.vocab.size}", help="Distinct characters; the model predicts one of these.")
    with st.expander("The vocabulary, character by character"):
        st.markdown(" ".join(f"`{_md_safe(char_label(ch))}`" for ch in tr.vocab.chars))


def render_checkpoint(ss) -> None:
    sess = session_of(ss)
    run = sess.active_run
    st.subheader("Checkpoint")
    st.caption("Save the whole run (weights, optimizer, history, text) as one .npz file; upload it later to go on.")
    st.download_button("Download checkpoint (.npz)", data=lambda tr=run.trainer: using.checkpoint_bytes(sess, tr),
                       file_name=using.checkpoint_filename(run), mime="application/octet-stream",
                       key="download_checkpoint", on_click="ignore", icon=":material/download:", width="stretch")
    st.file_uploader("Continue a saved run (.npz)", type=["npz"], key="checkpoint_upload",
                     on_change=uploads.upload_checkpoint, args=(ss,),
                     help="Only checkpoints saved by this playground load; anything else is refused, "
                          "and the current run stays as it is.")
    _file_error(ss, "checkpoint_upload")
    show_notices(ss, "checkpoint")


def _file_error(ss, key: str) -> None:
    """A refused file stays in its uploader: keep saying why until it is removed or replaced."""
    message = uploads.file_error(ss, key)
    if message:
        st.error(message + " The current run is unchanged.", icon=":material/block:")


def _md_safe(label: str) -> str:
    return label.replace("`", "ˋ")
