"""The run folder's bookkeeping: a per-workspace index, a lock, and the global quota.

The folder is shared by every visitor, so nothing a visitor does often may cost in proportion
to the whole folder. Layout, next to the runs (`<id>.npz` + `<id>.json`):
    .index/lock                  flock()ed while a save or an eviction changes the folder
    .index/v1                    present once runs saved before the index existed are indexed
    .index/ws/<workspace>/<id>   an empty file per run: the workspace's index

Why empty marker files rather than one index file per workspace: creating or removing one file is
atomic on its own, so two processes saving runs of the same workspace at once can never lose each
other's entry (a rewritten index file would need a lock around every read-modify-write, and a
crash mid-rewrite loses entries). Listing a workspace is one scandir of a folder holding only
that workspace's runs. A marker is a hint, never the truth: the listing keeps only markers whose
run exists and whose sidecar names the same workspace, and removes the others, so a crash
between two steps heals on the next listing.

The quota (limits.MAX_STORE_MB, limits.MAX_STORE_RUNS) holds for the folder as a whole: before a
save, the runs of any workspace not saved in the last limits.STORE_IDLE_SECONDS are evicted,
oldest first, until the new file fits. Checking it costs one scandir and one stat per run, and
only a save pays it (at most every few seconds per playing visitor), never a listing.
"""
from __future__ import annotations

import fcntl
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import limits

INDEX_DIR = ".index"
_WS = re.compile(r"[0-9A-Za-z_-]{1,64}")


class RunStoreFull(ValueError):
    """The run folder is at its quota and every run in it is in use."""


def workspace_key(meta: dict) -> str | None:
    """The workspace a run belongs to, from its meta ("ws"), if it is safe as a folder name."""
    ws = meta.get("ws") if isinstance(meta, dict) else None
    return ws if isinstance(ws, str) and _WS.fullmatch(ws) else None


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    mtime: float
    size: int


class Index:
    def __init__(self, root: Path):
        self.root = root
        self.dir = root / INDEX_DIR

    def folder(self, ws: str) -> Path:
        return self.dir / "ws" / ws

    @contextmanager
    def lock(self):
        """One writer at a time across threads and processes (flock locks an open file, not a process)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "lock", "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def add(self, ws: str | None, run_id: str) -> None:
        if ws is None:
            return
        folder = self.folder(ws)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / run_id).touch()

    def remove(self, ws: str | None, run_id: str) -> None:
        if ws is not None:
            (self.folder(ws) / run_id).unlink(missing_ok=True)

    def ids(self, ws: str) -> list[str]:
        try:
            with os.scandir(self.folder(ws)) as it:
                return [e.name for e in it]
        except FileNotFoundError:
            return []

    def migrated(self) -> bool:
        return (self.dir / "v1").exists()

    def mark_migrated(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "v1").touch()


def scan(root: Path, valid) -> list[StoredRun]:
    """Every run in the folder with its size and time: one scandir, one stat per run."""
    runs = []
    with os.scandir(root) as it:
        for e in it:
            if e.name.endswith(".npz") and valid(e.name[:-4]):
                try:
                    st = e.stat()
                except FileNotFoundError:
                    continue  # deleted while we looked
                runs.append(StoredRun(e.name[:-4], st.st_mtime, st.st_size))
    return runs


def to_evict(runs: list[StoredRun], incoming: int, keep: str, now: float | None = None) -> list[str]:
    """The ids to delete, oldest first, so that `keep` at `incoming` bytes fits the quota.

    Raises RunStoreFull when the idle runs are not enough (every other run was saved very recently).
    """
    now = time.time() if now is None else now
    others = [r for r in runs if r.run_id != keep]
    total, count = sum(r.size for r in others) + incoming, len(others) + 1
    cap_bytes, cap_runs = limits.MAX_STORE_MB * 2**20, limits.MAX_STORE_RUNS
    idle = sorted((r for r in others if now - r.mtime >= limits.STORE_IDLE_SECONDS), key=lambda r: (r.mtime, r.run_id))
    gone = []
    for r in idle:
        if total <= cap_bytes and count <= cap_runs:
            break
        gone.append(r.run_id)
        total, count = total - r.size, count - 1
    if total > cap_bytes or count > cap_runs:
        raise RunStoreFull(
            f"The run folder is full ({len(runs):,} runs, {sum(r.size for r in runs) / 2**20:,.0f} MB; the limits are "
            f"{cap_runs:,} runs and {limits.MAX_STORE_MB:,} MB) and every run in it was saved in the last "
            f"{limits.STORE_IDLE_SECONDS} s. This run was not saved: try again in a minute, or download a checkpoint.")
    return gone


__all__ = ["INDEX_DIR", "Index", "RunStoreFull", "StoredRun", "scan", "to_evict", "workspace_key"]
