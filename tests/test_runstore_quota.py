"""The run folder shared by every workspace: an index per workspace, a global quota, concurrent saves.

Cost is counted, not timed: an audit hook counts the files opened and the folders listed under the
store's root while a listing runs.
"""
from __future__ import annotations

import json
import os
import threading
import time

import pytest

from rnn_core import limits
from rnn_core.runstore import SIDECAR_FORMAT, RunStore, RunStoreFull, new_run_id
from tests.helpers_counting import touched
from tests.helpers_reliability import small_trainer

WS_A, WS_B, WS_C = "a" * 24, "b" * 24, "c" * 24


def _touched(store: RunStore, action):
    return touched(store.root, action)


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


@pytest.fixture(scope="module")
def tr():
    return small_trainer(3)


def _age(store: RunStore, run_id: str, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(store.path(run_id), (t, t))


def _old_layout_runs(store: RunStore, n: int) -> None:
    """`n` runs of other workspaces as a server before the index wrote them: a checkpoint and a sidecar each."""
    for i in range(n):
        rid = f"{i:012x}"
        npz = store.root / f"{rid}.npz"
        npz.write_bytes(b"PK\x03\x04 not read by a listing of another workspace")
        st = npz.stat()
        record = {"format": SIDECAR_FORMAT, "run_id": rid, "npz_size": st.st_size, "npz_mtime_ns": st.st_mtime_ns,
                  "iteration": 5, "smooth_loss": 40.0, "cell": "rnn", "hidden_size": 16, "seq_length": 10,
                  "vocab_size": 30, "meta": {"ws": f"{i % 5000:024x}"}}
        (store.root / f"{rid}.json").write_text(json.dumps(record))


def test_listing_a_workspace_costs_the_same_with_10000_runs_of_others(store, tr):
    mine = [new_run_id() for _ in range(5)]
    for rid in mine:
        store.save(rid, tr, {"ws": WS_A, "corpus": "prose"})
    alone, opened_alone = _touched(store, lambda: store.list(workspace=WS_A))
    assert sorted(r.run_id for r in alone) == sorted(mine)

    _old_layout_runs(store, 10_000)
    (store.root / ".index" / "v1").unlink()             # as if the server had been upgraded: index them once
    assert sorted(r.run_id for r in store.list(workspace=WS_A)) == sorted(mine)
    crowded, opened = _touched(store, lambda: store.list(workspace=WS_A))
    assert [r.run_id for r in crowded] == [r.run_id for r in alone]
    assert opened == opened_alone <= 2 * len(mine) + 2   # one sidecar per run, one index folder
    assert len(store.list(workspace=f"{7:024x}")) == 2   # the old runs were indexed under their workspaces
    assert store.list(workspace="../etc") == []


def test_the_quota_counts_runs_of_every_workspace_and_evicts_the_oldest_idle_first(store, tr, monkeypatch):
    monkeypatch.setattr(limits, "MAX_STORE_RUNS", 3)
    ids = {}
    for ws, age in ((WS_A, 500), (WS_B, 400), (WS_A, 300)):
        rid = new_run_id()
        store.save(rid, tr, {"ws": ws})
        _age(store, rid, age)
        ids[age] = rid
    newcomer = new_run_id()
    store.save(newcomer, tr, {"ws": WS_C})
    assert not store.exists(ids[500]) and store.exists(ids[400]) and store.exists(ids[300])
    assert [r.run_id for r in store.list(workspace=WS_A)] == [ids[300]]
    assert not (store.root / ".index" / "ws" / WS_A / ids[500]).exists()
    store.save(ids[400], tr)                             # re-saving a run already counted evicts nothing
    assert len(store.list()) == 3


def test_the_quota_in_bytes_evicts_as_many_as_needed(store, tr, monkeypatch):
    rids = [new_run_id() for _ in range(4)]
    for age, rid in zip((400, 300, 200, 100), rids):
        store.save(rid, tr, {"ws": WS_B})
        _age(store, rid, age)
    size = store.path(rids[0]).stat().st_size
    monkeypatch.setattr(limits, "MAX_STORE_MB", 2.5 * size / 2**20)   # room for two runs and a half
    store.save(new_run_id(), tr, {"ws": WS_A})
    assert [store.exists(r) for r in rids] == [False, False, False, True]


def test_a_full_folder_of_runs_in_use_refuses_the_save_and_writes_nothing(store, tr, monkeypatch):
    monkeypatch.setattr(limits, "MAX_STORE_RUNS", 2)
    a, b = new_run_id(), new_run_id()
    store.save(a, tr, {"ws": WS_A})
    store.save(b, tr, {"ws": WS_B})                      # both just saved: in use
    late = new_run_id()
    with pytest.raises(RunStoreFull, match=r"full \(2 runs.*limits are 2 runs.*download a checkpoint"):
        store.save(late, tr, {"ws": WS_C})
    assert store.exists(a) and store.exists(b) and not store.exists(late)
    assert store.list(workspace=WS_C) == []


def test_concurrent_saves_lose_no_index_entry(store, tr):
    ids = [[new_run_id() for _ in range(6)] for _ in range(6)]
    errors = []

    def saver(mine):
        try:
            for rid in mine:
                store.save(rid, tr, {"ws": WS_A})
        except Exception as err:  # noqa: BLE001  reported below
            errors.append(err)

    threads = [threading.Thread(target=saver, args=(mine,)) for mine in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.run_id for r in store.list(workspace=WS_A)) == sorted(r for mine in ids for r in mine)
    assert not list(store.root.glob("*.tmp"))


def test_a_run_moved_to_another_workspace_leaves_the_old_index(store, tr):
    rid = new_run_id()
    store.save(rid, tr, {"ws": WS_A})
    store.save(rid, tr, {"ws": WS_B})
    assert store.list(workspace=WS_A) == [] and [r.run_id for r in store.list(workspace=WS_B)] == [rid]
    store.delete(rid)
    assert store.list(workspace=WS_B) == [] and not any((store.root / ".index" / "ws").rglob(rid))
