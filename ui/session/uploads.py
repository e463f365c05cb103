"""The two file uploaders' callbacks, without Streamlit: a text to train on, a checkpoint to restore.

An uploader shows exactly the file in use, or nothing. Streamlit offers no way to take a file out of
an uploader, but a widget with a new key starts empty: each uploader has a generation
(Session.uploader_gen) and its key is `uploader_key(ss, base)`. A refused file, or a file whose run is
no longer the one shown (another text was picked, the checkpoint's run was reset), moves its uploader
to the next generation: the box empties. The reason a file was refused stays in a message under the
box (Session.file_errors) until the next file arrives there. The runs are untouched by a refused file.

Session.uploader_holds records what the file in each box made: the text's label for a text (still in
use after a Reset: same text), the run id for a checkpoint (a Reset makes a new model, not the file's).
Each file is handled once (Streamlit hands the same file to every rerun: Session.seen_uploads).
"""
from __future__ import annotations

from rnn_core import load_text
from rnn_core.checkpoint import load_trainer

from .health import check_drawable
from .names import md_escape
from .session import State, session_of
from .state import new_run, restore, text_label

TEXT, CHECKPOINT = "upload", "checkpoint_upload"  # the uploaders' base keys


def uploader_key(ss: State, base: str) -> str:
    """The widget key of uploader `base` now: `base` at first, `base_<n>` after n clearings."""
    gen = session_of(ss).uploader_gen.get(base, 0)
    return base if gen == 0 else f"{base}_{gen}"


def clear(ss: State, base: str) -> None:
    """Empty uploader `base` (its next draw uses a fresh key)."""
    sess = session_of(ss)
    sess.uploader_gen[base] = sess.uploader_gen.get(base, 0) + 1
    sess.uploader_holds.pop(base, None)


def sync(ss: State) -> None:
    """Before the uploaders are drawn: empty any whose file no longer made the run shown."""
    sess = session_of(ss)
    run = sess.active_run
    now = {TEXT: run.source, CHECKPOINT: run.run_id}
    for base, made in list(sess.uploader_holds.items()):
        if made != now.get(base):
            clear(ss, base)


def in_use(ss: State, base: str) -> bool:
    """Does uploader `base` hold the file the shown run came from?"""
    return base in session_of(ss).uploader_holds


def upload_text(ss: State, base: str = TEXT) -> None:
    """The text uploader changed: decode the file and start a new run on it (once per file)."""
    file = ss.get(uploader_key(ss, base))
    if file is None or _seen(ss, file):
        return
    sess = session_of(ss)
    sess.file_errors.pop(base, None)
    label, name = f"{file.name} (uploaded)", md_escape(file.name)
    try:
        text = load_text(file.getvalue())
        new_run(ss, text, label, origin=f"your file {file.name}")
    except ValueError as err:
        _refuse(ss, base, f"Could not use {name}: {md_escape(err)}")
        return
    sess.custom_text = (label, text)
    sess.uploader_holds[base] = label
    ss["corpus"] = label
    sess.notify("data", "success", f"New run on {name}: {len(text):,} characters, "
                                   f"{sess.trainer.vocab.size} distinct.")


def upload_checkpoint(ss: State, base: str = CHECKPOINT) -> None:
    """The checkpoint uploader changed: restore that run (once per file)."""
    file = ss.get(uploader_key(ss, base))
    if file is None or _seen(ss, file):
        return
    sess = session_of(ss)
    sess.file_errors.pop(base, None)
    name = md_escape(file.name)
    try:
        trainer = load_trainer(file.getvalue())   # checked here first: a refused file never reaches a worker
        check_drawable(trainer)  # loads, but the page could not show it: refused like a damaged file
        restore(ss, trainer, text_label(trainer.text, f"text of {file.name}"), origin=f"the checkpoint {file.name}")
    except ValueError as err:
        _refuse(ss, base, f"Could not load {name}: {md_escape(err)}")
        return
    sess.uploader_holds[base] = sess.active_run.run_id
    sess.notify("checkpoint", "success", f"Restored {name}, trained on “{md_escape(sess.active_run.source)}”: "
                                         f"iteration {trainer.iteration:,}, smooth loss {trainer.smooth_loss:.2f}.")


def _refuse(ss: State, base: str, message: str) -> None:
    """Keep the reason, empty the box (the file in use, if any, is named under it by the page)."""
    clear(ss, base)
    session_of(ss).file_errors[base] = ("", message)


def file_error(ss: State, base: str) -> str | None:
    """Why the last file put into uploader `base` was refused, if it was (until the next file there)."""
    err = session_of(ss).file_errors.get(base)
    return None if err is None else err[1]


def _file_id(file) -> str:
    return getattr(file, "file_id", None) or f"{file.name}:{file.size}"


def _seen(ss: State, file) -> bool:
    fid = _file_id(file)
    seen = session_of(ss).seen_uploads
    if fid in seen:
        return True
    seen.add(fid)
    return False


__all__ = ["TEXT", "CHECKPOINT", "uploader_key", "clear", "sync", "in_use", "upload_text", "upload_checkpoint",
           "file_error"]
