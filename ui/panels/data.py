"""Sidebar: the training text (built-in or uploaded), its statistics, and checkpoints."""
from __future__ import annotations

import streamlit as st

from assets.corpora import CORPORA
from rnn_core import char_label, limits

from ..session import runs, state, uploads, using
from ..session.names import md_escape
from ..session.session import session_of
from .common import show_notices


def render_data(ss) -> None:
    sess = session_of(ss)
    tr = sess.trainer
    uploads.sync(ss)  # an uploader whose file no longer made the run shown is emptied
    st.subheader("Text")
    st.selectbox("Training text", state.corpus_options(ss), key="corpus", on_change=_switch_text, args=(ss,),
                 help="Each text keeps its own run: pick another text and back, and you find your run where "
                      "you left it (iteration, weights, history).")
    st.caption(text_caption(ss))
    st.file_uploader("…or upload your own text", type=["txt", "md"], key=uploads.uploader_key(ss, uploads.TEXT),
                     on_change=_upload_text, args=(ss,),
                     help="UTF-8 plain text. A good file starts a new run on it; a bad one changes nothing.")
    st.caption(f"Plain text (.txt, .md), at most {limits.MAX_UPLOAD_MB} MB, {limits.MAX_TEXT_CHARS:,} characters "
               f"and {limits.MAX_VOCAB} distinct characters.")
    _file_error(ss, uploads.TEXT)
    show_notices(ss, "data")
    with st.container(horizontal=True, gap="medium", key="text_stats"):
        st.metric("Characters", f"{len(tr.text):,}", width="content")
        st.metric("Vocabulary", f"{tr.vocab.size}", width="content",
                  help="Distinct characters; the model predicts one of these.")
    with st.expander("The vocabulary, character by character"):
        st.markdown(" ".join(f"`{_md_safe(char_label(ch))}`" for ch in tr.vocab.chars))


def text_caption(ss) -> str:
    """What the text in use is: a built-in's description, or the upload or checkpoint it came from."""
    run = session_of(ss).active_run
    name = run.source
    words = CORPORA[name]["description"] if name in CORPORA else f"Your text, “{md_escape(name)}”."
    if run.origin:  # names a visitor's file: shown as text, never as Markdown
        words += f" This run came from {md_escape(run.origin)}."
    return words


def _switch_text(ss) -> None:
    runs.autosave(ss, force=True)  # the run being left keeps its last iterations on disk too
    state.switch_corpus(ss)


def _upload_text(ss) -> None:
    runs.autosave(ss, force=True)
    uploads.upload_text(ss)


def _upload_checkpoint(ss) -> None:
    runs.autosave(ss, force=True)
    uploads.upload_checkpoint(ss)


def render_checkpoint(ss) -> None:
    sess = session_of(ss)
    run = sess.active_run
    st.subheader("Checkpoint")
    st.caption("Save the whole run (weights, optimizer, history, text) as one .npz file; upload it later to go on.")
    st.download_button("Download checkpoint (.npz)", data=lambda tr=run.trainer: using.checkpoint_bytes(sess, tr),
                       file_name=using.checkpoint_filename(run), mime="application/octet-stream",
                       key="download_checkpoint", on_click="ignore", icon=":material/download:", width="stretch")
    st.file_uploader("Continue a saved run (.npz)", type=["npz"], key=uploads.uploader_key(ss, uploads.CHECKPOINT),
                     on_change=_upload_checkpoint, args=(ss,),
                     help="Only checkpoints saved by this playground load; anything else is refused, "
                          "and the current run stays as it is.")
    _file_error(ss, uploads.CHECKPOINT)
    show_notices(ss, "checkpoint")


def _file_error(ss, base: str) -> None:
    """A refused file is taken out of its uploader; say why until the next file arrives there."""
    message = uploads.file_error(ss, base)
    if message:
        st.error(message + " The current run is unchanged; the file was taken out of the box.",
                 icon=":material/block:")


def _md_safe(label: str) -> str:
    return label.replace("`", "ˋ")
