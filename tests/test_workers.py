"""Training workers with a real Ray: BLAS pinning, lock step, Play/Pause, Train N, divergence, tick size.

Ray starts once per session (tests/conftest.py: ray_up); every run store is a tmp folder.
"""
from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

from rnn_core.runstore import RunStore
from tests.helpers_workers import PROSE, SMALL, wait_until


@pytest.fixture
def pool(ray_up, tmp_path):
    from ui.session.pool import WorkerPool

    p = WorkerPool(tmp_path / "runs", capacity=8, autosave_seconds=3600, reaper=False)
    yield p
    for r in p.live_runs():
        p.forget(r)


def _group(pool, configs, **kw):
    from ui.session.player import Group

    ids = [pool.create(text=PROSE, config={**SMALL, **c}, owner="t") for c in configs]
    return Group(pool, ids, owner="t", **kw)


def _worker_state(group, i):
    return group.call(i, "info")


def test_ensure_ray_is_idempotent_from_many_threads(ray_up):
    from ui.session.cluster import ensure_ray

    errors = []
    threads = [threading.Thread(target=lambda: errors.append(ensure_ray())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [None] * 4 and ray_up.is_initialized()
    assert ray_up.cluster_resources()["CPU"] == 2


def test_blas_is_pinned_inside_a_worker_whatever_the_environment(ray_up, tmp_path):
    from threadpoolctl import threadpool_info

    from ui.session.workers import remote_worker

    @ray_up.remote
    def unpinned():  # the control: a plain Ray task in the same environment, no pin_blas
        import os

        import numpy  # noqa: F401
        return os.environ.get("OPENBLAS_NUM_THREADS"), [i["num_threads"] for i in threadpool_info()]

    env, threads = ray_up.get(unpinned.remote())
    assert env == "2" and 2 in threads
    w = remote_worker().remote("0123456789ab", str(tmp_path), {"text": PROSE, "config": SMALL})
    seen = ray_up.get(w.blas.remote())
    assert seen["env"] == "2"
    assert seen["threads"] and set(seen["threads"]) == {1}
    ray_up.kill(w)


def test_bad_text_is_a_value_error_and_leaves_no_worker(pool):
    from rnn_core import TextError

    with pytest.raises(TextError, match="seq_length"):
        pool.create(text="ab", config=SMALL)
    with pytest.raises(ValueError, match="hidden_size"):
        pool.create(text=PROSE, config={"hidden_size": 0})
    assert pool.live_runs() == []


def test_train_n_in_lock_step_with_three_cells(pool):
    g = _group(pool, [{"cell": "rnn"}, {"cell": "lstm"}, {"cell": "gru"}])
    seen = []
    assert g.train(600)
    while g.playing:
        seen.append(g.progress)
    g.join()
    assert all(m.saved_iteration < 600 for m in g.read())        # the end of Train N is saved by the page...
    g.save()                                                      # ...which asks once it has drawn the runs
    assert g.error is None and g.progress == (600, 600)
    assert g.chunks >= 2 and all(d <= t == 600 for d, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    mirrors = g.read()
    assert [m.iteration for m in mirrors] == [600, 600, 600]
    assert len({m.where["pid"] for m in mirrors}) == 3            # three workers, three processes
    for i, m in enumerate(mirrors):                               # the mirror is the worker's history, exactly
        w = _worker_state(g, i)
        assert w["iteration"] == 600 and w["smooth_loss"] == m.smooth_loss
        np.testing.assert_array_equal(w["history"]["history_loss"], m.history.loss)
        np.testing.assert_array_equal(w["history"]["history_smooth"], m.history.smooth)
        assert m.samples == w["samples"] and [s[0] for s in m.samples] == [100, 300, 500]
        assert m.saved_iteration == 600
    assert RunStore(pool.store.root).info(mirrors[1].run_id).iteration == 600
    assert g.speed() > 0


def test_play_then_pause_stops_after_the_chunks_already_queued(pool):
    from ui.session.player import PIPELINE

    g = _group(pool, [{}, {"learning_rate": 0.05}])
    g.play()
    assert wait_until(lambda: g.chunks >= 6)
    at_request = g.chunks
    g.pause()
    assert not g.playing
    assert g.chunks - at_request <= PIPELINE                      # only the chunks queued at the workers land
    its = [m.iteration for m in g.read()]
    assert its[0] == its[1] > 0
    assert [w["iteration"] for w in g.call_all("info")] == its    # the workers stopped too
    assert g.call_all("info")[0]["iteration"] == its[0]


def test_divergence_in_one_run_stops_play_and_the_others_stay_level(pool):
    g = _group(pool, [{}, {"learning_rate": 10.0, "optimizer": "sgd", "clip": None}, {"cell": "gru"}])
    g.play()
    g.join(timeout=30)
    assert not g.playing
    assert g.error.startswith("run 2 (RNN, lr 10): Training diverged at iteration")
    a, bad, c = g.read()
    assert a.iteration == c.iteration > bad.iteration
    assert bad.error and a.error is None
    assert bad.iteration == _worker_state(g, 1)["iteration"] == len(bad.history)


def test_views_are_computed_in_the_worker(pool):
    g = _group(pool, [{"cell": "lstm"}])
    g.train(200)
    g.join()
    heat = g.set_view({"view": "heatmap", "text": "the cat", "key": "cell", "pos": 2})[0]
    assert heat["grid"].shape == (7, 16) and heat["grid"].dtype == np.float16
    assert heat["keys"][0] == "hidden" and "cell" in heat["keys"] and heat["iteration"] == 200
    assert heat["probs"].shape == (len(g.read()[0].chars),) and abs(float(heat["probs"].sum()) - 1) < 1e-3
    assert g.read()[0].view["view"] == "heatmap"
    with pytest.raises(ValueError, match="Unknown view"):
        g.set_view({"view": "weights"})
    g.set_view({"view": "surprise", "text": "the cat sat"})
    g.train(30)
    g.join()
    assert g.read()[0].view["view"] == "surprise" and g.read()[0].view["iteration"] > 200


def test_per_tick_transfer_stays_under_1mb_at_the_largest_model(ray_up, tmp_path):
    from ui.session.workers import remote_worker

    chars = [chr(0x100 + i) for i in range(512)]                  # V = 512
    text = "".join(np.random.default_rng(0).choice(chars, 3000)) + "".join(chars)
    cfg = {"cell": "lstm", "hidden_size": 512, "seq_length": 200}
    w = remote_worker().remote("0123456789ab", str(tmp_path), {"text": text, "config": cfg}, None, 3600.0)
    tick = ray_up.get(w.step.remote(2))
    probe = text[:400]
    view = ray_up.get(w.snapshot.remote({"view": "heatmap", "text": probe, "key": "cell", "pos": 399}))
    size = len(pickle.dumps(tick)) + len(pickle.dumps(view))
    assert tick.iteration == 2 and view["grid"].shape == (400, 512) and view["probs"].shape == (512,)
    assert size < 1_000_000, size
    ray_up.kill(w)


def test_worker_modules_import_no_page_library_and_stay_small():
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "ui" / "session"
    for name in ("cluster.py", "workers.py", "worker_views.py", "player.py", "pool.py", "proxy.py"):
        src = (folder / name).read_text(encoding="utf-8")
        tops = set()
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                tops |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops.add(node.module.split(".")[0])
        assert tops <= {"__future__", "rnn_core", "numpy", "ray", "threadpoolctl", "collections", "copy",
                        "dataclasses", "functools", "logging", "math", "os", "socket", "sys", "threading", "time"}, (name, tops)
        assert len(src.splitlines()) < 400, name


def test_the_proxy_reads_the_mirror_and_asks_the_worker_for_the_model(pool):
    from rnn_core import Trainer, TrainConfig
    from ui.session.proxy import RunProxy

    g = _group(pool, [{}])
    g.train(150)
    g.join()
    tr = RunProxy(g)
    local = Trainer(PROSE, TrainConfig(**SMALL))                  # the same run, trained here: same numbers
    local.step(150)
    assert tr.iteration == 150 and tr.smooth_loss == local.smooth_loss
    assert tr.vocab.chars == local.vocab.chars and tr.config == local.config
    assert tr.sample("t", 40, seed=3) == local.sample("t", 40, seed=3)
    np.testing.assert_array_equal(tr.probe("the cat").probs, local.probe("the cat").probs)
    tr.apply_live(learning_rate=0.01)
    assert tr.config.learning_rate == 0.01 and g.call(0, "info")["config"]["learning_rate"] == 0.01
    with pytest.raises(ValueError, match="cannot change mid-run"):
        tr.apply_live(hidden_size=8)
    assert tr.iteration == 150
