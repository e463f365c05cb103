"""The run store: real files in a temporary folder, exact round trips, atomic saves, hostile ids."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

import rnn_core.checkpoint_io as checkpoint  # where saving lives
import rnn_core.runstore as runstore
from rnn_core import CheckpointError, Trainer
from rnn_core.cells import CELLS
from rnn_core.runstore import (
    Autosaver, InvalidRunId, RunInfo, RunNotFound, RunStore, default_root, new_run_id, valid_run_id,
)
from tests.helpers_reliability import assert_same, small_trainer, snapshot

RUN_A, RUN_B, RUN_C = "0123456789ab", "aaaaaaaaaaaa", "fedcba987654"


@pytest.fixture
def store(tmp_path, monkeypatch) -> RunStore:
    root = tmp_path / "runs"
    monkeypatch.setenv(runstore.ENV_VAR, str(root))
    return RunStore()


def _files(root: Path) -> list[str]:
    """The runs' own files (the index folder, .index, is bookkeeping: tests/test_runstore_quota.py)."""
    return sorted(p.name for p in root.iterdir() if p.name != ".index") if root.exists() else []


# ---- location -------------------------------------------------------------------------------

def test_location_env_var_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv(runstore.ENV_VAR, str(tmp_path / "mine"))
    assert RunStore().root == tmp_path / "mine"
    monkeypatch.delenv(runstore.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "char-rnn-playground" / "runs"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec says: ignore it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / ".cache" / "char-rnn-playground" / "runs"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_root() == tmp_path / "home" / ".cache" / "char-rnn-playground" / "runs"
    assert RunStore(tmp_path / "explicit").root == tmp_path / "explicit"


def test_nothing_is_created_until_the_first_save(store):
    assert store.list() == []
    assert not store.exists(RUN_A)
    assert not store.root.exists()


# ---- ids ------------------------------------------------------------------------------------

def test_new_ids_are_valid_and_distinct():
    ids = {new_run_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(valid_run_id(i) and len(i) == 12 for i in ids)
    assert RunStore.new_run_id() != RunStore.new_run_id()
    assert RunStore.valid_run_id(RUN_A)


BAD_IDS = [
    "", "..", "../", "../0123456789ab", "../../etc/passwd", "0123456789ab/..", "/tmp/0123456789ab",
    "0123456789a", "0123456789abc", "0123456789AB", "0123456789ab\n", "\n0123456789ab", "0123456789ab.npz",
    "0123456789a/", "..%2F..%2Fx", "0123456789a\x00", "０１２３４５６７８９ａｂ", " 0123456789ab", "ghijklmnopqr",
    None, 123456789012, b"0123456789ab", ["0123456789ab"],
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_invalid_ids_never_touch_a_path(store, tmp_path, bad):
    tr = small_trainer()
    assert not valid_run_id(bad)
    assert not store.exists(bad)
    for action in (lambda: store.save(bad, tr), lambda: store.load(bad), lambda: store.delete(bad),
                   lambda: store.info(bad), lambda: store.meta(bad)):
        with pytest.raises(InvalidRunId, match="not a run id"):
            action()
    assert issubclass(InvalidRunId, ValueError)
    assert _files(tmp_path) == []  # not even the runs folder


# ---- round trip -----------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["adagrad", "sgd", "momentum", "adam"])
def test_round_trip_is_bit_for_bit_and_training_continues_identically(store, optimizer):
    tr = small_trainer(160, optimizer=optimizer, learning_rate=0.05)
    assert tr.samples, "sample_every=50 should have recorded samples"
    store.save(RUN_A, tr, {"corpus": "prose", "title": "Essay ✓"})
    back = store.load(RUN_A)
    assert_same(snapshot(tr), snapshot(back))
    assert np.array_equal(tr.val_data, back.val_data)
    assert np.array_equal(tr.step(30), back.step(30))     # same future, not just the same present
    assert_same(snapshot(tr), snapshot(back))


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_round_trip_every_cell(store, cell):
    tr = small_trainer(20, cell=cell)
    store.save(RUN_B, tr)
    assert_same(snapshot(tr), snapshot(store.load(RUN_B)))


def test_round_trip_of_a_compacted_history_with_a_row_still_filling(store):
    small = small_trainer()
    tr = Trainer(small.text, small.config, history_cap=8)
    tr.step(37)
    assert tr.history.compactions > 0 and getattr(tr.history, "_open", 1) > 0
    store.save(RUN_C, tr)
    back = store.load(RUN_C)
    assert_same(snapshot(tr), snapshot(back))
    tr.step(11), back.step(11)
    assert_same(snapshot(tr), snapshot(back))


def test_save_overwrites_and_load_returns_the_latest(store):
    tr = small_trainer(10)
    store.save(RUN_A, tr)
    tr.step(15)
    store.save(RUN_A, tr)
    assert store.load(RUN_A).iteration == 25
    assert _files(store.root) == [f"{RUN_A}.json", f"{RUN_A}.npz"]


def test_load_missing_run(store):
    with pytest.raises(RunNotFound, match="no saved run"):
        store.load(RUN_C)
    with pytest.raises(RunNotFound):
        store.info(RUN_C)
    assert issubclass(RunNotFound, ValueError)


# ---- meta and the listing -------------------------------------------------------------------

def test_meta_is_kept_replaced_and_checked(store):
    tr = small_trainer(5)
    store.save(RUN_A, tr, {"corpus": "prose", "title": "first"})
    store.save(RUN_A, tr)                        # autosave: meta=None keeps it
    assert store.meta(RUN_A) == {"corpus": "prose", "title": "first"}
    store.save(RUN_A, tr, {"corpus": "code (brackets)"})
    assert store.info(RUN_A).corpus == "code (brackets)" and store.info(RUN_A).title is None
    before = _files(store.root)
    for bad in ({"x": object()}, {"x": float("nan")}, {1: "int key"}, ["not", "a dict"], {"big": "x" * 5000}):
        with pytest.raises(ValueError, match="meta"):
            store.save(RUN_B, tr, bad)
    assert _files(store.root) == before          # refused before anything was written


def test_list_fields_and_newest_first(store):
    runs = {RUN_A: small_trainer(30), RUN_B: small_trainer(10, cell="rnn", hidden_size=8), RUN_C: small_trainer(20)}
    for i, (run_id, tr) in enumerate(runs.items()):
        store.save(run_id, tr, {"corpus": f"corpus {i}"})
    listing = store.list()
    assert {r.run_id for r in listing} == set(runs)
    assert [r.modified for r in listing] == sorted((r.modified for r in listing), reverse=True)
    for info in listing:
        tr = runs[info.run_id]
        assert isinstance(info, RunInfo) and info.ok
        assert info.iteration == tr.iteration and info.smooth_loss == tr.smooth_loss
        assert (info.cell, info.hidden_size, info.seq_length, info.vocab_size) == (
            tr.config.cell, tr.config.hidden_size, tr.config.seq_length, tr.vocab.size)
        assert info.corpus == f"corpus {list(runs).index(info.run_id)}"


def test_list_order_follows_file_times_and_survives_stale_sidecars(store):
    trainers = {RUN_A: small_trainer(3), RUN_B: small_trainer(4), RUN_C: small_trainer(5)}
    for run_id, tr in trainers.items():
        store.save(run_id, tr, {"title": run_id})
    # Touching the .npz makes each sidecar stale: the listing must fall back to the checkpoint itself.
    for t, run_id in ((1_000, RUN_A), (3_000, RUN_B), (2_000, RUN_C)):
        os.utime(store.path(run_id), (t, t))
    listing = store.list()
    assert [r.run_id for r in listing] == [RUN_B, RUN_C, RUN_A]
    assert [r.modified for r in listing] == [3_000, 2_000, 1_000]
    assert [r.iteration for r in listing] == [4, 5, 3]
    assert [r.title for r in listing] == [RUN_B, RUN_C, RUN_A]   # meta still comes from the sidecar
    assert all(r.ok and r.smooth_loss == trainers[r.run_id].smooth_loss for r in listing)


def test_corrupt_and_foreign_files_do_not_break_the_listing(store):
    good = small_trainer(12)
    store.save(RUN_A, good, {"corpus": "prose"})
    raw = checkpoint.to_bytes(good)
    root = store.root
    (root / f"{RUN_B}.npz").write_bytes(raw[: len(raw) // 2])            # truncated by a crash
    (root / f"{RUN_C}.npz").write_bytes(b"\x00garbage" * 100)              # noise
    (root / "deadbeef0000.npz").write_bytes(b"")                           # empty
    buf = io.BytesIO()
    np.savez(buf, weights=np.ones(3))
    (root / "abcdefabcdef.npz").write_bytes(buf.getvalue())                # a .npz that is not ours
    (root / "abcdefabcdef.json").write_text("{not json")
    (root / "notes.txt").write_text("hello")                               # strays are left alone
    (root / "Not An Id.npz").write_bytes(raw)
    listing = {r.run_id: r for r in store.list()}
    assert set(listing) == {RUN_A, RUN_B, RUN_C, "deadbeef0000", "abcdefabcdef"}
    assert listing[RUN_A].ok and listing[RUN_A].iteration == 12 and listing[RUN_A].corpus == "prose"
    for bad in (RUN_B, RUN_C, "deadbeef0000", "abcdefabcdef"):
        assert not listing[bad].ok and "unreadable" in listing[bad].error
        with pytest.raises(CheckpointError):
            store.load(bad)
    assert (root / "notes.txt").exists() and (root / "Not An Id.npz").exists()


def test_garbage_sidecar_falls_back_to_the_checkpoint(store):
    store.save(RUN_A, small_trainer(7), {"corpus": "prose"})
    store._sidecar(RUN_A).write_text('{"format": "char-rnn-playground-run/1", "iteration": "many"}')
    (info,) = store.list()
    assert info.ok and info.iteration == 7 and info.meta == {}
    store._sidecar(RUN_A).write_text("[1, 2")
    assert store.list()[0].iteration == 7 and store.meta(RUN_A) == {}


def test_delete_and_prune(store):
    for i, run_id in enumerate((RUN_A, RUN_B, RUN_C)):
        store.save(run_id, small_trainer(i + 1))
        os.utime(store.path(run_id), (1000 + i, 1000 + i))
    assert store.delete(RUN_B) is True
    assert not store.exists(RUN_B) and not store._sidecar(RUN_B).exists()
    assert store.delete(RUN_B) is False                # a second click is harmless
    with pytest.raises(RunNotFound):
        store.load(RUN_B)
    assert [r.run_id for r in store.list()] == [RUN_C, RUN_A]
    assert store.prune(keep=1) == [RUN_A]
    assert [r.run_id for r in store.list()] == [RUN_C]
    with pytest.raises(ValueError):
        store.prune(keep=-1)


# ---- atomic saves ---------------------------------------------------------------------------

def _assert_previous_survives(store, before: dict) -> None:
    assert_same(snapshot(store.load(RUN_A)), before)
    assert not list(store.root.glob("*.tmp")), "a temporary file was left behind"
    (info,) = store.list()
    assert info.ok and info.iteration == before["iteration"]


def test_save_interrupted_at_the_rename_keeps_the_previous_checkpoint(store, monkeypatch):
    tr = small_trainer(10)
    store.save(RUN_A, tr, {"corpus": "prose"})
    before = snapshot(tr)
    tr.step(25)

    def crash(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(checkpoint.os, "replace", crash)
    with pytest.raises(OSError, match="No space"):
        store.save(RUN_A, tr)
    monkeypatch.undo()
    _assert_previous_survives(store, before)
    assert store.meta(RUN_A) == {"corpus": "prose"}


def test_save_interrupted_midway_through_the_write_keeps_the_previous_checkpoint(store, monkeypatch):
    tr = small_trainer(10)
    store.save(RUN_A, tr)
    before = snapshot(tr)
    tr.step(25)
    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes half of what it is given, then the process 'dies' (KeyboardInterrupt, not an OSError)."""
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise KeyboardInterrupt
    monkeypatch.setattr(checkpoint.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        store.save(RUN_A, tr)
    monkeypatch.undo()
    _assert_previous_survives(store, before)


def test_crash_between_checkpoint_and_sidecar_is_detected(store, monkeypatch):
    tr = small_trainer(10)
    store.save(RUN_A, tr)
    tr.step(5)
    real_replace = os.replace

    def replace_but_not_json(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("crash")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace_but_not_json)  # the same os module the checkpoint uses
    with pytest.raises(OSError):
        store.save(RUN_A, tr)
    monkeypatch.undo()
    assert store.load(RUN_A).iteration == 15            # the new checkpoint landed
    (info,) = store.list()
    assert info.iteration == 15                          # the stale sidecar was not believed
    assert not list(store.root.glob("*.tmp"))


def test_old_temp_files_from_dead_saves_are_swept(store):
    store.save(RUN_A, small_trainer(2))
    old, fresh = store.root / f"{RUN_A}.npz.x1.tmp", store.root / f"{RUN_A}.npz.x2.tmp"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"in progress")
    os.utime(old, (1_000, 1_000))
    assert [r.run_id for r in store.list()] == [RUN_A]
    assert not old.exists() and fresh.exists()          # a save in progress elsewhere is left alone


# ---- the autosave throttle ------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_autosaver_throttles_by_time_and_always_saves_on_demand():
    clock = FakeClock()
    auto = Autosaver(interval=5.0, clock=clock)
    assert auto.due()                                    # never saved: save now
    auto.saved()
    for dt in (0.0, 1.0, 4.999):
        clock.now = 100.0 + dt
        assert not auto.due()
        assert auto.due(force=True)                      # a click always saves
    clock.now = 105.0
    assert auto.due()
    calls = []
    assert auto.maybe_save(lambda: calls.append(clock.now)) is True
    clock.now = 107.0
    assert auto.maybe_save(lambda: calls.append(clock.now)) is False
    assert auto.maybe_save(lambda: calls.append(clock.now), force=True) is True
    clock.now = 111.9
    assert auto.maybe_save(lambda: calls.append(clock.now)) is False
    clock.now = 112.0
    assert auto.maybe_save(lambda: calls.append(clock.now)) is True
    assert calls == [105.0, 107.0, 112.0]


def test_autosaver_retries_a_failed_save_and_checks_its_interval():
    clock = FakeClock()
    auto = Autosaver(interval=5.0, clock=clock)
    auto.saved()
    clock.now = 106.0

    def broken():
        raise OSError("disk full")
    with pytest.raises(OSError):
        auto.maybe_save(broken)
    assert auto.due()                                    # the failure did not count as a save
    assert Autosaver(0, clock=clock).due()
    for bad in (-1, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValueError, match="interval"):
            Autosaver(bad)


def test_autosaver_drives_a_real_store(store):
    clock = FakeClock()
    auto = Autosaver(interval=5.0, clock=clock)
    tr = small_trainer()
    saved_iterations = []
    for tick in range(30):                               # a tick every 0.5 s of "training"
        tr.step(2)
        if auto.maybe_save(lambda: store.save(RUN_A, tr)):
            saved_iterations.append(tr.iteration)
        clock.now += 0.5
    assert saved_iterations == [2, 22, 42]
    assert store.load(RUN_A).iteration == 42
    assert json.loads(store._sidecar(RUN_A).read_text())["iteration"] == 42
