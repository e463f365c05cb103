"""The worker pool with a real Ray: capacity and the busy queue, idle release and return, a killed worker."""
from __future__ import annotations

import pytest

from rnn_core.runstore import RunStore
from tests.helpers_workers import PROSE, SMALL, FakeClock, wait_until


def _pool(tmp_path, **kw):
    from ui.session.pool import WorkerPool

    kw.setdefault("autosave_seconds", 3600)
    return WorkerPool(tmp_path / "runs", reaper=False, **kw)


def _cleanup(pool):
    for r in pool.live_runs():
        pool.forget(r)


def test_beyond_capacity_is_busy_with_a_queue_place(ray_up, tmp_path):
    from ui.session.pool import Busy

    clock = FakeClock()
    pool = _pool(tmp_path, capacity=2, clock=clock, queue_ttl=30)
    try:
        first = [pool.create(text=PROSE, config=SMALL, owner="a") for _ in range(2)]
        with pytest.raises(Busy) as b1:
            pool.create(text=PROSE, config=SMALL, owner="b")
        assert b1.value.position == 1 and isinstance(b1.value, ValueError)
        assert str(b1.value).startswith("All 2 training workers are busy. You are number 1 in the queue")
        with pytest.raises(Busy) as c1:
            pool.create(text=PROSE, config=SMALL, owner="c")
        assert c1.value.position == 2
        with pytest.raises(Busy) as b2:                          # asking again keeps the place
            pool.create(text=PROSE, config=SMALL, owner="b")
        assert b2.value.position == 1 and pool.queue() == ["b", "c"]
        assert len(pool.live_runs()) == 2

        pool.release(first[0])                                   # one place frees: b is first in line
        assert not RunStore(pool.store.root).exists(first[0])    # at iteration 0 nothing is saved: its settings rebuild it
        with pytest.raises(Busy) as c2:                          # c cannot overtake b
            pool.create(text=PROSE, config=SMALL, owner="c")
        assert c2.value.position == 2
        b_run = pool.create(text=PROSE, config=SMALL, owner="b")
        assert pool.queue() == ["c"] and sorted(pool.live_runs()) == sorted([first[1], b_run])

        clock.t += 31                                            # c stopped asking: its place lapses
        assert pool.queue() == []
    finally:
        _cleanup(pool)


def test_an_idle_run_is_saved_released_and_comes_back(ray_up, tmp_path):
    from ui.session.player import Group

    clock = FakeClock()
    pool = _pool(tmp_path, capacity=1, idle_seconds=60, clock=clock)
    try:
        run = pool.create(text=PROSE, config=SMALL, owner="a")
        g = Group(pool, [run], owner="a")
        g.train(120)
        g.join()
        before = g.read()[0]
        clock.t += 30
        assert pool.release_idle() == []                         # looked at 30 s ago: kept
        clock.t += 31
        assert pool.release_idle() == [run] and pool.live_runs() == []
        assert RunStore(pool.store.root).info(run).iteration == 120
        other = pool.create(text=PROSE, config=SMALL, owner="b")  # its place went to someone else
        g.train(10)
        g.join()
        assert g.error.startswith("All 1 training workers are busy. You are number 1 in the queue")
        assert g.read()[0].iteration == 120
        clock.t += 61
        assert pool.release_idle() == [other]
        g.train(10)                                               # back from the run store, trained on
        g.join()
        m = g.read()[0]
        assert g.error is None and g.notice is None              # nothing was lost
        assert m.iteration == 130
        assert m.history.loss[:120].tolist() == before.history.loss.tolist()
        assert m.where["pid"] != before.where["pid"]
    finally:
        _cleanup(pool)


def test_a_killed_worker_is_restored_from_its_last_save_and_the_loss_is_reported(ray_up, tmp_path):
    from ui.session.player import Group

    pool = _pool(tmp_path, capacity=4)
    try:
        run = pool.create(text=PROSE, config=SMALL, owner="a")
        g = Group(pool, [run], owner="a")
        g.train(50)
        g.join()
        g.save()                                                  # as the page does once it has drawn it
        old_pid = g.read()[0].where["pid"]
        g.play()
        assert wait_until(lambda: g.read()[0].iteration > 150)
        handle = pool.checkout([run])[0][0]
        pool.checkin([run])
        ray_up.kill(handle, no_restart=True)
        assert wait_until(lambda: g.notice is not None)
        at_death = [int(s) for s in g.notice.split("so ")[1].split(" iterations")[0].replace(",", "").split()]
        assert g.notice.startswith("The worker training run 1 (RNN, lr 0.1) stopped; the run was restored "
                                   "from its last save at iteration 50, so ")
        assert at_death[0] > 100                                  # everything since iteration 50
        assert wait_until(lambda: g.read()[0].iteration > 60)     # and Play trains on from there
        g.pause()
        m = g.read()[0]
        assert g.error is None and m.where["pid"] != old_pid
        assert g.call(0, "info")["iteration"] == m.iteration
    finally:
        _cleanup(pool)


def test_forgetting_a_dead_handle_spares_the_worker_restored_since(ray_up, tmp_path):
    # Play keeps two chunks queued: both fail on a killed worker, and the second failure is noticed after
    # the next checkout has restored the run. Forgetting by the dead handle must leave the new worker be.
    pool = _pool(tmp_path, capacity=2)
    try:
        run = pool.create(text=PROSE, config=SMALL, owner="a")
        old = pool.checkout([run])[0][0]
        pool.checkin([run])
        ray_up.kill(old, no_restart=True)
        pool.forget(run, old)
        assert pool.live_runs() == []
        new = pool.checkout([run], owner="a")[0][0]              # rebuilt from its settings (never saved)
        pool.checkin([run])
        pool.forget(run, old)                                    # the late notice about the old worker
        assert pool.live_runs() == [run] and pool.checkout([run])[0][0] is new
        pool.checkin([run])
        assert ray_up.get(new.info.remote())["run_id"] == run
        pool.forget(run)                                         # without a handle: whatever is live
        assert pool.live_runs() == []
    finally:
        _cleanup(pool)


def test_play_nobody_watches_pauses_itself_and_keeps_the_run(ray_up, tmp_path):
    # A tab closed during Play: no page reads the group any more, so after UNWATCHED_SECONDS the group
    # stops training (the core goes back to the other visitors), saves the run and says why.
    from ui.session.player import UNWATCHED_SECONDS, Group

    clock = FakeClock()
    pool = _pool(tmp_path, capacity=1, clock=clock)
    try:
        run = pool.create(text=PROSE, config=SMALL, owner="a")
        g = Group(pool, [run], owner="a")
        g.play()
        assert wait_until(lambda: g.read()[0].iteration > 20)    # read: watched
        clock.t += UNWATCHED_SECONDS - 1
        at = g.chunks
        assert wait_until(lambda: g.chunks > at + 3) and g.playing   # unseen for less than the limit: plays on
        clock.t += 2
        assert wait_until(lambda: not g.playing)
        assert g.notice == "Play paused itself: nobody was watching this page." and g.error is None
        its = g.call(0, "info")["iteration"]
        assert RunStore(pool.store.root).info(run).iteration == its > 20   # saved where it stopped
        assert run in pool.live_runs()                           # the worker itself goes at the idle timeout
    finally:
        _cleanup(pool)
