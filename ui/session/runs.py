"""Saved runs, the visitor's workspace and the page's URL, without Streamlit.

The URL of the page always reads
    ?ws=<workspace>&run=<run id>&corpus=prose&cell=rnn&hidden_size=100&...
  ws      a random id made on the first visit (WORKSPACE_HEX hex characters). Every run saved from this
          browser tab carries it in its meta; the sidebar lists, opens and deletes only runs whose meta
          says the same ws. The run folder is shared by every visitor of the server, and ws is what
          keeps one visitor's runs out of another's hands: it is a bearer secret, like an unlisted link.
  run     the active run's id, once it has been saved (a run at iteration 0 is not saved: the settings
          in the URL rebuild it exactly). Opening the URL in a new session restores that run.
  corpus, cell, hidden_size, ...   the active run's settings (ui/session/share.py): a link WITHOUT ws and run
          starts the same run from scratch anywhere. When `run` is present it wins.

Saving: each run's worker writes it to the run store (ui/session/workers.py): every AUTOSAVE_S seconds
while it plays, when Play ends, and when `autosave` here asks, once the page has drawn the run after a
click. `autosave` also keeps the page's side of it: which runs are saved (the URL names the run once it
is), the workspace's cap on runs, and a refused or failed write (disk full, read-only folder, the shared
folder at its quota: RunStoreFull) as `Session.save_error`, shown by the page; training goes on. A run
the page cannot draw (ui/session/health.py, checked by the worker before each save, or a view that
raised: `Run.broken`) is never saved, so its last good file, and the link to it, stay good; opening
such a run (a link, the sidebar) is refused like an unreadable file.

Cost: everything a plain rerun does here reads the workspace's index (`RunStore.list(workspace=)`),
so it does not grow with the runs of other workspaces in the shared folder.

The Session fields used here: ws, saved_sigs {run_id: signature at its last save}, autosaver, save_error,
confirm_delete (run id waiting for a confirmation). Notices go to the area "runs".
"""
from __future__ import annotations

import math
import re
import secrets
import time
from typing import Mapping

from assets.corpora import CORPORA, read_corpus
from rnn_core import Trainer, limits
from rnn_core.runstore import InvalidRunId, RunInfo, RunNotFound, RunStore, valid_run_id

from . import state
from .health import check_drawable, why_not_drawable
from .names import md_escape
from .session import Run, session_of
from .widgets import DEFAULT_CORPUS
from .share import CORPUS_KEY, config_from_query, config_keys, config_to_query

WS_KEY = "ws"
RUN_KEY = "run"
WORKSPACE_HEX = 24               # 96 random bits: not guessable, short enough for a URL
AUTOSAVE_S = 5.0                 # the workers save at most once per this many seconds while they train
MAX_RUNS_PER_WORKSPACE = 20      # the oldest beyond this are removed when a new run is first saved
_WS = re.compile(rf"[0-9a-f]{{{WORKSPACE_HEX}}}")


def url_keys() -> list[str]:
    """Every query key this page writes (others in the URL are left alone)."""
    return [WS_KEY, RUN_KEY, CORPUS_KEY, *config_keys()]


def new_workspace_id() -> str:
    return secrets.token_hex(WORKSPACE_HEX // 2)


def valid_workspace_id(s) -> bool:
    return isinstance(s, str) and _WS.fullmatch(s) is not None


def store() -> RunStore:
    """The run folder ($CHAR_RNN_RUNS_DIR, else the user's cache). Cheap: made per call, read from the env."""
    return RunStore()


def _last(params: Mapping, key: str) -> str | None:
    raw = params.get(key)
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    return None if raw is None else str(raw)


# ---- a new session -------------------------------------------------------------------------
def start_session(ss, params: Mapping) -> None:
    """On the first script run of a session: adopt or make the workspace, then open the run the URL
    names, or start a run with the URL's settings. Never raises for anything in the URL; what could
    not be used becomes a warning. Later runs of the session return at once."""
    sess = session_of(ss)
    if sess.ws:
        return
    ws = _last(params, WS_KEY)
    if valid_workspace_id(ws):
        sess.ws = ws
    else:
        sess.ws = new_workspace_id()
        if ws is not None:
            sess.notify("runs", "warning", "The link's workspace id (ws) is not valid, so a new, empty "
                                                "workspace was made; your saved runs are under your old link.")
    run_id = _last(params, RUN_KEY)
    if run_id is not None:
        if open_run(ss, run_id, from_link=True):
            return
    if any(k in params for k in (CORPUS_KEY, *config_keys())):
        _start_from_settings(ss, params)


def _start_from_settings(ss, params: Mapping) -> None:
    corpus, cfg, warnings = config_from_query(params)
    for w in warnings:
        session_of(ss).notify("runs", "warning", md_escape(w))
    corpus = corpus or DEFAULT_CORPUS
    try:
        trainer = Trainer(read_corpus(corpus), cfg)
    except ValueError as err:
        session_of(ss).notify("runs", "warning", f"The link's settings cannot train on “{md_escape(corpus)}” "
                                                 f"({md_escape(err)}); starting with the default settings instead.")
        return
    state.restore(ss, trainer, corpus)  # a new run id: the link only reproduces the run


# ---- opening, listing, deleting ------------------------------------------------------------
def _owned(s: RunStore, ss, run_id: str) -> bool:
    return s.meta(run_id).get(WS_KEY) == session_of(ss).ws


def open_run(ss, run_id, *, from_link: bool = False) -> bool:
    """Make saved run `run_id` of this workspace the session's run; False (and a warning) if impossible.

    A run of another workspace is refused with the same words as a missing one, so a link cannot
    be used to learn which ids exist.
    """
    shown = run_id if valid_run_id(run_id) else None
    where = "The link's run" if from_link else "That run"
    s = store()
    try:
        if shown is None:
            raise InvalidRunId("it is not a run id (12 characters 0–9 and a–f)")
        if not s.exists(run_id) or not _owned(s, ss, run_id):
            raise RunNotFound(f"there is no saved run {run_id} in this workspace (it may have been deleted, or "
                              "the link lost its ws= part)")
        trainer = s.load(run_id)
        check_drawable(trainer)  # a file that loads but cannot be shown is refused like an unreadable one
    except Exception as err:  # noqa: BLE001  any damage to a file on disk: a notice, never a traceback
        reason = str(err).rstrip(".") or type(err).__name__
        if not isinstance(err, ValueError):
            reason = f"the saved file cannot be read ({type(err).__name__}: {reason[:200]})"
        fresh = " A new run was started instead." if from_link else " The current run is unchanged."
        session_of(ss).notify("runs", "warning", f"{where} could not be opened: {md_escape(reason)}.{fresh}")
        return False
    if not from_link:
        autosave(ss, force=True)  # the run being left keeps its last iterations
    meta = s.meta(run_id)
    try:
        state.restore(ss, trainer, _label(meta, trainer), run_id=run_id)
    except ValueError as err:  # the server is full (Busy): say so, keep what is open
        session_of(ss).notify("runs", "warning", f"{where} could not be opened: {md_escape(str(err))}")
        return False
    sess = session_of(ss)
    sess.saved_sigs[run_id] = (trainer.iteration,)
    sess.notify("runs", "success", f"Reopened saved run {run_id} at iteration {trainer.iteration:,}.")
    return True


def _label(meta: dict, trainer: Trainer) -> str:
    """The corpus selector's entry for a reopened run: the built-in name if the text is that corpus."""
    corpus = meta.get("corpus")
    if isinstance(corpus, str) and corpus in CORPORA and read_corpus(corpus) == trainer.text:
        return corpus
    if isinstance(corpus, str) and corpus and corpus not in CORPORA:
        return corpus[:80]
    return "text of a saved run"


def list_runs(ss) -> list[RunInfo]:
    """This workspace's saved runs, newest first (an unreadable one carries `error`)."""
    ws = session_of(ss).ws
    if not ws:
        return []
    try:
        return store().list(workspace=ws)
    except OSError as err:
        session_of(ss).notify("runs", "warning", f"The saved runs cannot be listed ({err.strerror or err}).")
        return []


def open_ids(ss) -> set[str]:
    return {r.run_id for r in session_of(ss).runs}


def ask_delete(ss, run_id: str) -> None:
    session_of(ss).confirm_delete = run_id


def cancel_delete(ss) -> None:
    session_of(ss).confirm_delete = None


def delete_run(ss, run_id: str) -> bool:
    """Delete a saved run of this workspace (not one that is open in this session)."""
    sess = session_of(ss)
    sess.confirm_delete = None
    s = store()
    try:
        if not valid_run_id(run_id) or not s.exists(run_id) or not _owned(s, ss, run_id):
            raise RunNotFound("there is no such run in this workspace")
        if run_id in open_ids(ss):
            raise ValueError("it is the run open now; open or start another run first")
        s.delete(run_id)
    except (ValueError, OSError) as err:
        sess.notify("runs", "warning", f"Could not delete that run: {md_escape(str(err).rstrip('.'))}.")
        return False
    sess.saved_sigs.pop(run_id, None)
    sess.notify("runs", "success", f"Deleted saved run {run_id}.")
    return True


# ---- saving --------------------------------------------------------------------------------
def _meta(ws: str, run: Run) -> dict:
    return {WS_KEY: ws, "corpus": run.source[:200], "title": run.source[:200]}


def autosave(ss, force: bool = False) -> bool:
    """The page's side of saving (the workers write the files); True if a run was saved for the first time.

    A run at iteration 0 is not saved (nothing to lose), nor one the page cannot draw (its worker refuses;
    its last good file stays). Paused, every run that moved since its last save is saved now (the page
    calls this after drawing, so a run whose view just failed is marked broken first); playing, the
    workers save on their own timer. A refused or failed write sets Session.save_error and is tried
    again on the next paused rerun; the runs are untouched either way. `force`: save even while playing.
    """
    sess = session_of(ss)
    if not sess.ws or sess.group is None:
        return False
    unsaved = [r for r in sess.runs if r.trainer.iteration > 0 and r.trainer.saved_iteration != r.trainer.iteration]
    if unsaved and (force or not sess.playing):
        try:
            sess.group.save()
        except ValueError:  # Busy: a released worker could not come back now; retried on the next rerun
            pass
    sigs, first = sess.saved_sigs, False
    s = None
    for run in sess.runs:
        if run.trainer.saved_iteration is None:
            continue
        if run.run_id not in sigs:
            s = s or store()
            _keep_newest(ss, s, run.run_id)
            first = True
        sigs[run.run_id] = (run.trainer.saved_iteration,)
    sess.save_error = _save_problem(sess.runs)
    return first


def _save_problem(runs) -> str | None:
    """The page's sentence for the first run whose last save was refused or failed (None: all saved)."""
    for run in runs:
        if run.broken:
            return _not_drawable_message(run, run.broken)
    for run in runs:
        problem = run.trainer.save_error
        if problem is None:
            continue
        kind, reason = problem
        if kind == "full":
            return _store_full_message()
        return (f"Could not save this run ({md_escape(reason)}). It keeps training, but a reload or a server "
                "restart would lose the progress since the last save; download a checkpoint to keep it.")
    return None


def _not_drawable_message(run: Run, why: str) -> str:
    return (f"This run was not saved, because {md_escape(why)}. Its last save, and the link to it, are kept as "
            "they were. Press **Reset** to start afresh (or download a checkpoint to keep this state anyway).")


def _store_full_message() -> str:
    return (f"The server's run folder is full: it holds at most {limits.MAX_STORE_RUNS:,} runs and "
            f"{limits.MAX_STORE_MB:,} MB for all visitors together, and room is made by removing the runs nobody "
            f"has saved for {limits.STORE_IDLE_SECONDS} s, oldest first; right now every run in it is in use. "
            f"This run was not saved, but it keeps training: saving is tried again every {AUTOSAVE_S:g} s and on "
            "every click. Download a checkpoint to be sure to keep it.")


def _keep_newest(ss, s: RunStore, new_id: str | None = None) -> None:
    """Only this workspace's index is read: the cost does not grow with other workspaces' runs."""
    sess = session_of(ss)
    mine = s.list(workspace=sess.ws)  # newest first
    in_use = open_ids(ss) | {new_id}
    others = [r for r in mine if r.run_id not in in_use]
    room = max(0, MAX_RUNS_PER_WORKSPACE - (len(mine) - len(others)))
    for old in others[room:]:
        s.delete(old.run_id)
        sess.notify("runs", "info", f"Your workspace keeps the {MAX_RUNS_PER_WORKSPACE} newest runs; "
                                         f"the oldest, {old.run_id}, was removed.")


def mark_broken(ss, err: BaseException) -> str:
    """A view of the active run raised: its worker never saves it over its last good file again."""
    sess = session_of(ss)
    why = f"a view of it could not be drawn ({type(err).__name__}: {str(err)[:200]})"
    try:
        sess.group.mark_broken(sess.active, why)
    except Exception:  # noqa: BLE001  a lost worker: it comes back from its last (good) save anyway
        pass
    return why


# ---- the URL -------------------------------------------------------------------------------
def wanted_query(ss) -> dict[str, str]:
    """What the page's query string should say now (only this page's keys)."""
    sess = session_of(ss)
    run = sess.active_run
    query = {WS_KEY: sess.ws}
    if run.run_id in sess.saved_sigs:
        query[RUN_KEY] = run.run_id
    query.update(config_to_query(run.source if run.source in CORPORA else None, run.trainer.config))
    return query


def settings_query(ss) -> dict[str, str]:
    """The settings-only part: a link to this that anyone can open to start the same run from scratch."""
    return {k: v for k, v in wanted_query(ss).items() if k not in (WS_KEY, RUN_KEY)}


def merged_query(current: Mapping[str, str], wanted: Mapping[str, str]) -> dict[str, str] | None:
    """The new full query string (others' keys kept), or None when nothing of ours changed."""
    ours = set(url_keys())
    if all(current.get(k) == wanted.get(k) for k in ours):
        return None
    return {**dict(wanted), **{k: v for k, v in current.items() if k not in ours}}


# ---- the sidebar list ----------------------------------------------------------------------
def bits_per_char(info: RunInfo) -> float:
    if not info.ok or not info.seq_length or not math.isfinite(info.smooth_loss):
        return math.nan
    return info.smooth_loss / info.seq_length / math.log(2)


def age(seconds_ago: float) -> str:
    s = max(0.0, seconds_ago)
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} days ago"


def describe(info: RunInfo, now: float | None = None) -> str:
    """One markdown line about a saved run."""
    when = age((time.time() if now is None else now) - info.modified)
    title = md_escape(info.title or info.corpus or info.run_id)
    if not info.ok:
        return f"**{title}** · {when} · :material/warning: cannot be opened: {md_escape(info.error or '')}"
    bpc = bits_per_char(info)
    return (f"**{title}** · iteration {info.iteration:,} · {bpc:.2f} bits/char · "
            f"{md_escape(info.cell.upper())} H={info.hidden_size} · {when} · `{info.run_id}`")


__all__ = [
    "AUTOSAVE_S", "MAX_RUNS_PER_WORKSPACE", "RUN_KEY", "WS_KEY", "age", "ask_delete", "autosave", "bits_per_char",
    "cancel_delete", "delete_run", "describe", "list_runs", "mark_broken", "md_escape", "merged_query", "new_workspace_id",
    "open_ids", "open_run", "settings_query", "start_session", "store", "url_keys", "valid_workspace_id",
    "wanted_query",
]
