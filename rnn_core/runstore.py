"""A folder of saved runs, so a run survives a page reload and a server restart.

Each run is two files named by its id:
    <id>.npz    the whole trainer (rnn_core.checkpoint: plain arrays, uncompressed, written atomically)
    <id>.json   a small sidecar for listings: iteration, smooth loss, cell, sizes, and the
                caller's `meta` (e.g. {"corpus": "prose", "title": ...}); also written atomically

Runs of many visitors share the folder; each run's meta names its workspace ("ws"), and a
per-workspace index plus a global quota (rnn_core.runindex) keep `list(workspace=...)` and the
folder's size independent of how many other workspaces there are.

Listing reads only the sidecars. The sidecar records the size and mtime of the .npz it
describes; when they disagree (a crash between the two writes, a file copied in by hand)
or the sidecar is missing or unreadable, the listing peeks at the few small arrays it
needs inside the .npz instead, and a file that cannot be read at all is listed with an
`error` rather than breaking the list.

Ids are 12 lowercase hex characters from `secrets`: unguessable enough that one visitor
cannot stumble on another's run, and a strict pattern, so an id taken from a URL can never
name a path outside the folder.

Where: $CHAR_RNN_RUNS_DIR if set, else $XDG_CACHE_HOME/char-rnn-playground/runs, else
~/.cache/char-rnn-playground/runs. Nothing is created until the first save.
"""
from __future__ import annotations

import json
import math
import os
import re
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import runindex
from .checkpoint import CheckpointError, atomic_write, load_trainer, to_bytes
from .runindex import RunStoreFull, workspace_key

ENV_VAR = "CHAR_RNN_RUNS_DIR"
SIDECAR_FORMAT = "char-rnn-playground-run/1"
MAX_META_BYTES = 4096          # meta is a label or two, not data
STALE_TMP_SECONDS = 600        # a temp file this old is a save that died (a real save takes well under a second)
_ID = re.compile(r"[0-9a-f]{12}")


class RunNotFound(ValueError):
    """No saved run has this id (it was deleted, or the link is from another machine)."""


class InvalidRunId(ValueError):
    """A string that is not a run id (e.g. an edited link)."""


def default_root() -> Path:
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec ignores relative paths
    return base / "char-rnn-playground" / "runs"


def new_run_id() -> str:
    """12 random lowercase hex characters (48 bits), safe in a URL and as a file name."""
    return secrets.token_hex(6)


def valid_run_id(s) -> bool:
    return isinstance(s, str) and _ID.fullmatch(s) is not None


@dataclass(frozen=True)
class RunInfo:
    """One line of the run list. `error` is None for a readable run, else why it is not."""

    run_id: str
    modified: float                  # seconds since the epoch, of the .npz
    iteration: int = 0
    smooth_loss: float = math.nan    # nats per window of seq_length characters
    cell: str = ""
    hidden_size: int = 0
    seq_length: int = 0
    vocab_size: int = 0
    meta: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def corpus(self) -> str | None:
        return self.meta.get("corpus")

    @property
    def title(self) -> str | None:
        return self.meta.get("title")


class RunStore:
    new_run_id = staticmethod(new_run_id)
    valid_run_id = staticmethod(valid_run_id)

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()
        self._index = runindex.Index(self.root)

    # ---- paths --------------------------------------------------------------------------
    def _check(self, run_id) -> str:
        if not valid_run_id(run_id):
            raise InvalidRunId(f"{str(run_id)[:40]!r} is not a run id (12 characters 0-9 and a-f). Start a new run instead.")
        return run_id

    def path(self, run_id: str) -> Path:
        return self.root / f"{self._check(run_id)}.npz"

    def _sidecar(self, run_id: str) -> Path:
        return self.root / f"{self._check(run_id)}.json"

    # ---- the API ------------------------------------------------------------------------
    def exists(self, run_id) -> bool:
        return valid_run_id(run_id) and self.path(run_id).is_file()

    def save(self, run_id: str, trainer, meta: dict | None = None) -> RunInfo:
        """Write the run (atomically, both files). `meta=None` keeps the meta saved before.

        Room is made first: idle runs of any workspace are evicted, oldest first, until the folder
        fits its quota with this run in it; RunStoreFull (a ValueError) if it cannot, nothing written.
        """
        npz, side = self.path(run_id), self._sidecar(run_id)
        old = self._read_sidecar(side) if side.is_file() else {}
        meta = _checked_meta(old.get("meta", {}) if meta is None else meta)
        data = to_bytes(trainer, compress=False)  # an autosave must be quick; disk is cheap
        self.root.mkdir(parents=True, exist_ok=True)
        with self._index.lock():  # one writer at a time: the quota's arithmetic and the index stay true
            self._ensure_index()
            runs = runindex.scan(self.root, valid_run_id)
            for gone in runindex.to_evict(runs, len(data), keep=run_id):
                self._delete(gone)
            self._sweep_temp_files()
            atomic_write(npz, data)
            st = npz.stat()
            cfg = trainer.config
            record = {
                "format": SIDECAR_FORMAT,
                "run_id": run_id,
                "npz_size": st.st_size,
                "npz_mtime_ns": st.st_mtime_ns,
                "iteration": int(trainer.iteration),
                "smooth_loss": float(trainer.smooth_loss),
                "cell": cfg.cell,
                "hidden_size": int(cfg.hidden_size),
                "seq_length": int(cfg.seq_length),
                "vocab_size": int(trainer.vocab.size),
                "meta": meta,
            }
            atomic_write(side, json.dumps(record, ensure_ascii=False).encode("utf-8"))
            ws, was = workspace_key(meta), workspace_key(old.get("meta", {}))
            self._index.add(ws, run_id)
            if was != ws:
                self._index.remove(was, run_id)
        return _info_from_record(run_id, st.st_mtime, record)

    def load(self, run_id: str):
        """The saved Trainer. Raises InvalidRunId, RunNotFound or CheckpointError (all ValueError)."""
        npz = self.path(run_id)
        if not npz.is_file():
            raise RunNotFound(f"There is no saved run {run_id!r} (it may have been deleted). Start a new run instead.")
        return load_trainer(npz)

    def meta(self, run_id: str) -> dict:
        """The meta saved with the run ({} if none or unreadable)."""
        side = self._sidecar(run_id)
        return dict(self._read_sidecar(side).get("meta", {})) if side.is_file() else {}

    def info(self, run_id: str) -> RunInfo:
        npz = self.path(run_id)
        try:
            st = npz.stat()
        except FileNotFoundError:
            raise RunNotFound(f"There is no saved run {run_id!r}.") from None
        return self._info(run_id, st)

    def list(self, workspace: str | None = None) -> list[RunInfo]:
        """Runs newest first; unreadable ones carry an `error`.

        With `workspace`: only the runs whose meta names it, read through its index, so the cost
        does not grow with other workspaces' runs. Without: every run in the folder (a full scan).
        """
        if not self.root.is_dir():
            return []
        if workspace is not None:
            return self._list_workspace(workspace)
        self._sweep_temp_files()
        runs = []
        for npz in self.root.glob("*.npz"):
            run_id = npz.stem
            if not valid_run_id(run_id):
                continue  # not ours: leave it alone
            try:
                st = npz.stat()
            except FileNotFoundError:
                continue  # deleted while we looked
            runs.append(self._info(run_id, st))
        runs.sort(key=lambda r: (-r.modified, r.run_id))
        return runs

    def _list_workspace(self, ws: str) -> list[RunInfo]:
        if workspace_key({"ws": ws}) != ws:
            return []  # not a name any run could be indexed under
        if not self._index.migrated():
            with self._index.lock():
                self._ensure_index()
        runs = []
        for run_id in self._index.ids(ws):
            if not valid_run_id(run_id):
                continue
            try:
                st = self.path(run_id).stat()
            except FileNotFoundError:
                self._index.remove(ws, run_id)  # the run was deleted; its marker stayed behind
                continue
            info = self._info(run_id, st)
            if info.meta.get("ws") != ws:
                if self._sidecar(run_id).is_file():  # the run moved to another workspace
                    self._index.remove(ws, run_id)
                continue
            runs.append(info)
        runs.sort(key=lambda r: (-r.modified, r.run_id))
        return runs

    def delete(self, run_id: str) -> bool:
        """Remove the run's files; False if there was nothing to remove."""
        self._check(run_id)
        with self._index.lock() if self.root.is_dir() else _nothing():
            return self._delete(run_id)

    def _delete(self, run_id: str) -> bool:
        side = self._sidecar(run_id)
        ws = workspace_key(self._read_sidecar(side).get("meta", {})) if side.is_file() else None
        removed = False
        for p in (self.path(run_id), side):
            try:
                p.unlink()
                removed = True
            except FileNotFoundError:
                pass
        self._index.remove(ws, run_id)
        return removed

    def prune(self, keep: int) -> list[str]:
        """Delete all but the `keep` newest runs; returns the ids deleted."""
        if not isinstance(keep, int) or keep < 0:
            raise ValueError(f"keep must be a whole number >= 0, not {keep!r}.")
        gone = [r.run_id for r in self.list()[keep:]]
        for run_id in gone:
            self.delete(run_id)
        return gone

    # ---- internals ----------------------------------------------------------------------
    def _ensure_index(self) -> None:
        """Index, once, the runs saved before the index existed (call under the lock); idempotent."""
        if self._index.migrated():
            return
        if self.root.is_dir():
            for side in self.root.glob("*.json"):
                if valid_run_id(side.stem) and self.path(side.stem).is_file():
                    self._index.add(workspace_key(self._read_sidecar(side).get("meta", {})), side.stem)
        self._index.mark_migrated()

    def _info(self, run_id: str, st: os.stat_result) -> RunInfo:
        side = self._sidecar(run_id)
        record = self._read_sidecar(side) if side.is_file() else {}
        fresh = record.get("npz_size") == st.st_size and record.get("npz_mtime_ns") == st.st_mtime_ns
        if record and fresh:
            return _info_from_record(run_id, st.st_mtime, record)
        try:
            peek = _peek(self.path(run_id))
        except Exception as err:  # any damage: the listing flags it and goes on
            return RunInfo(run_id, st.st_mtime, meta=record.get("meta", {}) or {},
                           error=f"unreadable checkpoint ({type(err).__name__}: {str(err)[:200]})")
        peek["meta"] = record.get("meta", {}) or {}
        return _info_from_record(run_id, st.st_mtime, peek)

    @staticmethod
    def _read_sidecar(side: Path) -> dict:
        try:
            record = json.loads(side.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict) or record.get("format") != SIDECAR_FORMAT:
            return {}
        if not isinstance(record.get("meta", {}), dict):
            record["meta"] = {}
        return record

    def _sweep_temp_files(self) -> None:
        cutoff = time.time() - STALE_TMP_SECONDS
        for tmp in self.root.glob("*.tmp"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
            except OSError:
                pass


def _checked_meta(meta) -> dict:
    if not isinstance(meta, dict) or not all(isinstance(k, str) for k in meta):
        raise ValueError("Run meta must be a dict with string keys.")
    try:
        text = json.dumps(meta, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"Run meta must be plain JSON (strings, numbers, lists, dicts): {err}") from None
    if len(text.encode("utf-8")) > MAX_META_BYTES:
        raise ValueError(f"Run meta is limited to {MAX_META_BYTES} bytes of JSON; keep it to a few labels.")
    return json.loads(text)


def _info_from_record(run_id: str, modified: float, r: dict) -> RunInfo:
    try:
        return RunInfo(
            run_id, modified, iteration=int(r["iteration"]), smooth_loss=float(r["smooth_loss"]),
            cell=str(r["cell"]), hidden_size=int(r["hidden_size"]), seq_length=int(r["seq_length"]),
            vocab_size=int(r["vocab_size"]), meta=dict(r.get("meta") or {}),
        )
    except (KeyError, TypeError, ValueError) as err:
        return RunInfo(run_id, modified, error=f"unreadable run summary ({err})")


def _peek(npz: Path) -> dict:
    """The listing fields from inside a checkpoint, reading only its few small arrays."""
    with np.load(npz, allow_pickle=False) as z:
        if "format" not in z.files or "counters" not in z.files:
            raise CheckpointError("not a playground checkpoint")
        cfg = json.loads(str(z["config"]))
        return {
            "iteration": int(z["counters"][0]),
            "smooth_loss": float(z["smooth_loss"]),
            "cell": cfg["cell"], "hidden_size": cfg["hidden_size"], "seq_length": cfg["seq_length"],
            "vocab_size": int(z["vocab"].shape[0]),
        }


@contextmanager
def _nothing():
    yield


class Autosaver:
    """When to save: on demand always, while training at most every `interval` seconds.

    Pure bookkeeping (no I/O, no threads): ask `due()`, save, then call `saved()`, so a save
    that failed is retried on the next tick. Keep one per session, never module-global.
    """

    def __init__(self, interval: float = 5.0, clock: Callable[[], float] = time.monotonic):
        if not isinstance(interval, (int, float)) or isinstance(interval, bool) or not math.isfinite(interval) or interval < 0:
            raise ValueError(f"The autosave interval must be a number of seconds >= 0, not {interval!r}.")
        self.interval = float(interval)
        self.clock = clock
        self.last_save: float | None = None   # clock() of the last successful save

    def due(self, force: bool = False) -> bool:
        """True for a forced save (a click), the first save, or when `interval` has passed."""
        return force or self.last_save is None or self.clock() - self.last_save >= self.interval

    def saved(self) -> None:
        self.last_save = self.clock()

    def maybe_save(self, save: Callable[[], object], force: bool = False) -> bool:
        """Call `save()` if due; True if it ran (an exception from it propagates, the timer is not reset)."""
        if not self.due(force):
            return False
        save()
        self.saved()
        return True


__all__ = ["Autosaver", "ENV_VAR", "InvalidRunId", "RunInfo", "RunNotFound", "RunStore", "RunStoreFull", "default_root",
           "new_run_id", "valid_run_id"]
