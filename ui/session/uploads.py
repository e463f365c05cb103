"""The two file uploaders' callbacks, without Streamlit: a text to train on, a checkpoint to restore.

Each file is handled once (Streamlit hands the same file to every rerun while it sits in the
uploader: Session.seen_uploads); a refused file's message is kept per uploader (Session.file_errors) and
shown for as long as that file stays there. The runs are untouched by a refused file.
"""
from __future__ import annotations

from rnn_core import load_text
from rnn_core.checkpoint import load_trainer

from .health import check_drawable
from .names import md_escape
from .session import State, session_of
from .state import new_run, restore


def upload_text(ss: State) -> None:
    """The text uploader changed: decode the file and start a new run on it (once per file)."""
    file = ss.get("upload")
    if file is None or _seen(ss, file):
        return
    label, name = f"📄 {file.name}", md_escape(file.name)
    try:
        text = load_text(file.getvalue())
        new_run(ss, text, label)
    except ValueError as err:
        _file_error(ss, "upload", file, f"Could not use {name}: {md_escape(err)}")
        return
    sess = session_of(ss)
    sess.custom_text = (label, text)
    ss["corpus"] = label
    sess.notify("data", "success", f"New run on {name}: {len(text):,} characters, "
                                   f"{sess.trainer.vocab.size} distinct.")


def upload_checkpoint(ss: State) -> None:
    """The checkpoint uploader changed: restore that run (once per file)."""
    file = ss.get("checkpoint_upload")
    if file is None or _seen(ss, file):
        return
    name = md_escape(file.name)
    try:
        trainer = load_trainer(file.getvalue())   # checked here first: a refused file never reaches a worker
        check_drawable(trainer)  # loads, but the page could not show it: refused like a damaged file
        restore(ss, trainer, f"💾 {file.name}")
    except ValueError as err:
        _file_error(ss, "checkpoint_upload", file, f"Could not load {name}: {md_escape(err)}")
        return
    session_of(ss).notify("checkpoint", "success",
                          f"Restored {name}: iteration {trainer.iteration:,}, smooth loss {trainer.smooth_loss:.2f}.")


def _file_error(ss: State, key: str, file, message: str) -> None:
    session_of(ss).file_errors[key] = (_file_id(file), message)


def file_error(ss: State, key: str) -> str | None:
    """The error of the file still sitting in uploader `key`, if that file was refused."""
    file = ss.get(key)
    err = session_of(ss).file_errors.get(key)
    if file is None or err is None or err[0] != _file_id(file):
        return None
    return err[1]


def _file_id(file) -> str:
    return getattr(file, "file_id", None) or f"{file.name}:{file.size}"


def _seen(ss: State, file) -> bool:
    fid = _file_id(file)
    seen = session_of(ss).seen_uploads
    if fid in seen:
        return True
    seen.add(fid)
    return False


__all__ = ["upload_text", "upload_checkpoint", "file_error"]
