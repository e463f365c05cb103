"""Saved runs in the app: the URL (ws, run, settings), autosave, restore in a new session, the sidebar
list, workspace isolation. Each test points CHAR_RNN_RUNS_DIR at its own tmp_path.

A "new session" is a new AppTest with the previous session's query string: what a reload, or the
same link opened after a server restart, does.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from assets.corpora import read_corpus
from rnn_core import TrainConfig, Trainer
from rnn_core.presets import FAST
from rnn_core.runstore import RunStore
from tests.helpers_app import click, in_worker, messages, session, small, train, trainer
from tests.helpers_reliability import assert_same, snapshot
from tests.helpers_workers import wait_until
from ui.session import runs, share, state
from ui.session.session import session_of

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test



@pytest.fixture
def store(tmp_path, monkeypatch) -> RunStore:
    monkeypatch.setenv("CHAR_RNN_RUNS_DIR", str(tmp_path))
    return RunStore(tmp_path)


def run_id(at: AppTest) -> str:
    return session_of(at.session_state).runs[session_of(at.session_state).active].run_id


def buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


# ---- the URL ------------------------------------------------------------------------------
def test_first_visit_gets_a_workspace_and_the_settings_but_no_run_yet(store):
    at = session()
    q = at.query_params
    assert runs.valid_workspace_id(q["ws"]) and q["ws"] == session_of(at.session_state).ws
    assert "run" not in q  # nothing trained, nothing saved: the settings rebuild it exactly
    assert q["corpus"] == "prose" and q["hidden_size"] == "100"
    assert (q["learning_rate"], q["batch_size"]) == (repr(FAST["learning_rate"]), str(FAST["batch_size"]))
    assert store.list() == []


def test_a_click_that_trains_saves_the_run_and_puts_its_id_in_the_url(store):
    at = session()
    small(at)
    train(at, 7)
    rid = run_id(at)
    assert at.query_params["run"] == rid
    info = store.info(rid)
    assert info.iteration == 7 and info.meta["ws"] == at.query_params["ws"] and info.meta["corpus"] == "prose"
    at.number_input(key="learning_rate").set_value(0.05)  # a live setting is a change too
    at.run()
    assert store.load(rid).config.learning_rate == 0.05 and at.query_params["learning_rate"] == "0.05"


def test_reload_restores_the_run_bit_for_bit_and_it_trains_on_identically(store):
    a = session()
    small(a, hidden=12, seq=15)
    a.selectbox(key="optimizer").set_value("adam")
    a.number_input(key="learning_rate").set_value(0.01)
    a.run()
    train(a, 120)  # past iteration 100: a recorded sample, too
    replay = in_worker(trainer(a))   # a local copy of A's run, to replay what B should do next
    before = snapshot(replay)
    b = session(dict(a.query_params))  # the same URL in a new session (a reload, a server restart)
    tr = trainer(b)
    assert_same(snapshot(tr), before)
    assert run_id(b) == run_id(a) and b.query_params["run"] == run_id(a)
    ss = b.session_state
    assert (ss["hidden_size"], ss["seq_length"], ss["optimizer"], ss["learning_rate"]) == (12, 15, "adam", 0.01)
    assert ss["corpus"] == "prose" and b.selectbox(key="corpus").options.count("prose") == 1
    assert not b.warning  # no pending settings: the widgets show the run's own
    assert "Reopened saved run" in messages(b.success)
    assert {m.label: m.value for m in b.metric}["Iteration"] == "120"
    train(b, 9)  # goes on exactly as the original would have
    replay.step(9)
    assert_same(snapshot(tr), snapshot(replay))
    assert store.info(run_id(b)).iteration == 129


def test_reset_starts_a_new_run_id_and_the_old_run_stays_listed(store):
    at = session()
    small(at)
    train(at, 5)
    first = run_id(at)
    click(at, "reset")
    assert run_id(at) != first and "run" not in at.query_params  # the new run is not saved at iteration 0
    train(at, 3)
    second = run_id(at)
    assert at.query_params["run"] == second
    assert {r.run_id: r.iteration for r in store.list()} == {first: 5, second: 3}
    assert {f"open_run_{first}", f"delete_run_{first}"} <= buttons(at)


def test_share_link_reproduces_the_settings_and_the_run_from_scratch(store):
    cfg = TrainConfig(cell="rnn", hidden_size=9, seq_length=11, learning_rate=0.05, optimizer="momentum",
                      clip=None, seed=7)
    link = share.config_to_query("code (brackets)", cfg)
    at = session(link)
    ss = at.session_state
    assert (ss["corpus"], ss["hidden_size"], ss["seq_length"], ss["seed"]) == ("code (brackets)", 9, 11, 7)
    assert (ss["optimizer"], ss["learning_rate"], ss["clip"]) == ("momentum", 0.05, 0.0)
    assert at.selectbox(key="corpus").value == "code (brackets)" and not at.warning
    assert trainer(at).config == cfg and "ws" in at.query_params and "run" not in at.query_params
    train(at, 25)
    ref = Trainer(read_corpus("code (brackets)"), cfg)
    ref.step(25)
    assert np.array_equal(in_worker(trainer(at)).model.flat, ref.model.flat)  # the same run, from the link alone
    assert runs.settings_query(at.session_state) == link


def test_share_link_with_bad_values_warns_and_uses_defaults(store):
    at = session({"corpus": "[evil](http://x.example)", "hidden_size": "abc", "learning_rate": "-1",
                  "seq_length": "12", "optimizer": "rmsprop"})
    warnings = messages(at.warning)  # as a person reads them (the page escapes markdown)
    shown = "\n".join(str(w.value) for w in at.warning)  # what Streamlit renders as markdown
    assert "not built in" in warnings and "hidden_size='abc' was ignored" in warnings
    assert "learning_rate='-1' was ignored" in warnings and "optimizer='rmsprop' was ignored" in warnings
    assert "](http" not in shown  # markdown from the URL is escaped, never a link
    cfg = trainer(at).config
    assert (cfg.hidden_size, cfg.seq_length, cfg.learning_rate, cfg.optimizer) == (100, 12, 0.1, "adagrad")
    assert at.session_state["corpus"] == "prose" and not at.exception


def test_run_wins_over_settings_in_the_same_link(store):
    a = session()
    small(a)
    train(a, 4)
    query = {**dict(a.query_params), "hidden_size": "50", "corpus": "hello world"}
    b = session(query)
    assert trainer(b).config.hidden_size == 8 and trainer(b).iteration == 4 and b.session_state["corpus"] == "prose"
    assert b.query_params["hidden_size"] == "8" and b.query_params["corpus"] == "prose"


def test_settings_link_that_cannot_train_on_its_corpus_warns(store):
    at = session({"corpus": "hello world", "seq_length": "150"})  # the text is 96 characters
    assert "cannot train on" in messages(at.warning) and trainer(at).iteration == 0 and not at.exception


# ---- links that cannot be opened -----------------------------------------------------------
def _saved_run(store: RunStore) -> tuple[AppTest, str]:
    a = session()
    small(a)
    train(a, 3)
    return a, run_id(a)


@pytest.mark.parametrize("case", ["traversal", "garbage", "unknown", "deleted", "corrupt", "no_sidecar"])
def test_a_link_to_a_run_that_cannot_be_opened_gives_a_notice_and_a_fresh_run(store, case):
    a, rid = _saved_run(store)
    ws = a.query_params["ws"]
    words = "no saved run"
    if case == "traversal":
        rid, words = "../../etc/passwd", "not a run id"
    elif case == "garbage":
        rid, words = "<b>x</b>[a](b)" * 20, "not a run id"
    elif case == "unknown":
        rid = "0123456789ab"
    elif case == "deleted":
        store.delete(rid)
    elif case == "corrupt":
        store.path(rid).write_bytes(b"PK\x03\x04 not really a zip")
        words = "damaged"
    elif case == "no_sidecar":  # owner unknown: never opened
        (store.root / f"{rid}.json").unlink()
    b = session({"ws": ws, "run": rid})
    warning = messages(b.warning)
    assert words in warning and "A new run was started instead" in warning
    assert "<b>" not in warning and "](" not in warning
    assert trainer(b).iteration == 0 and run_id(b) != rid and not b.exception
    assert b.query_params["ws"] == ws and "run" not in b.query_params
    assert not list(store.root.glob("*.tmp"))


def test_an_invalid_workspace_in_the_link_gets_a_new_one(store):
    at = session({"ws": "../etc"})
    assert "workspace id (ws) is not valid" in messages(at.warning)
    assert runs.valid_workspace_id(at.query_params["ws"]) and at.query_params["ws"] != "../etc"


# ---- workspaces ----------------------------------------------------------------------------
def test_another_workspace_cannot_list_open_or_delete_my_runs(store):
    a, rid = _saved_run(store)
    before = store.info(rid)
    b = session()  # another visitor: another workspace
    assert session_of(b.session_state).ws != session_of(a.session_state).ws
    assert runs.list_runs(b.session_state) == [] and f"open_run_{rid}" not in buttons(b)
    assert "Your saved runs (0)" in [e.label for e in b.expander]
    c = session({"run": rid})  # my run's id without my ws: refused like a missing run
    assert "no saved run" in messages(c.warning) and trainer(c).iteration == 0
    other = {}  # the actions themselves refuse too (no button needed)
    session_of(other, session_of(c.session_state).pool).ws = session_of(c.session_state).ws
    state.init_state(other)
    assert runs.open_run(other, rid) is False and session_of(other).trainer.iteration == 0
    assert runs.delete_run(other, rid) is False and store.exists(rid)
    assert "no such run" in session_of(other).notices["runs"][-1][1]
    d = session({"ws": "f" * 24, "run": rid})  # a made-up workspace: the same
    assert "no saved run" in messages(d.warning)
    assert store.info(rid) == before  # nothing of A's was touched
    e = session({"ws": a.query_params["ws"]})  # A's link with ws: a deliberate share of the workspace
    assert [r.run_id for r in runs.list_runs(e.session_state)] == [rid]


def test_sidebar_opens_and_deletes_with_confirmation(store):
    at = session()
    small(at)
    train(at, 6)
    first = run_id(at)
    click(at, "reset")
    train(at, 2)
    second = run_id(at)
    assert at.button(key=f"delete_run_{second}").disabled and at.button(key=f"open_run_{second}").disabled
    click(at, f"open_run_{first}")
    assert run_id(at) == first and trainer(at).iteration == 6 and at.query_params["run"] == first
    assert store.info(second).iteration == 2
    click(at, f"delete_run_{second}")
    assert "for good?" in messages(at.warning) and store.exists(second)
    click(at, f"cancel_delete_{second}")
    assert store.exists(second) and f"confirm_delete_{second}" not in buttons(at)
    click(at, f"delete_run_{second}")
    click(at, f"confirm_delete_{second}")
    assert not store.exists(second) and f"open_run_{second}" not in buttons(at)
    assert f"Deleted saved run {second}" in messages(at.success)
    assert at.button(key=f"delete_run_{first}").disabled  # the open run cannot be deleted...
    mine = {}  # ...and the action refuses it too
    session_of(mine, session_of(at.session_state).pool).ws = session_of(at.session_state).ws
    state.init_state(mine)
    state.restore(mine, store.load(first), "prose", run_id=first)
    assert runs.delete_run(mine, first) is False and store.exists(first)


def test_listing_shows_iteration_bits_per_char_cell_and_flags_a_damaged_run(store):
    at = session()
    small(at)
    train(at, 10)
    rid = run_id(at)
    line = next(str(m.value) for m in at.markdown if "iteration 10" in str(m.value))
    assert "RNN H=8" in line and "bits/char" in line and "just now" in line and "open now" in line
    click(at, "reset")
    store.path(rid).write_bytes(b"garbage")  # damaged on disk
    at.run()
    assert "cannot be opened" in messages(at.markdown) and at.button(key=f"open_run_{rid}").disabled
    click(at, f"delete_run_{rid}")
    click(at, f"confirm_delete_{rid}")  # a damaged run can still be deleted
    assert not store.exists(rid)


def test_a_workspace_keeps_its_newest_runs(store, monkeypatch):
    monkeypatch.setattr(runs, "MAX_RUNS_PER_WORKSPACE", 2)
    at = session()
    small(at)
    ids = []
    for _ in range(3):
        train(at, 1)
        ids.append(run_id(at))
        click(at, "reset")
    assert {r.run_id for r in store.list()} == set(ids[1:])
    assert "keeps the 2 newest runs" in messages(at.info)


# ---- autosave ------------------------------------------------------------------------------
def test_play_saves_at_most_every_few_seconds_and_on_pause(store):
    at = session()
    small(at)
    click(at, "play")
    sess, rid = session_of(at.session_state), run_id(at)
    assert wait_until(lambda: store.exists(rid))   # the worker saves a new run on its first chunk of Play
    saved = []                                     # each iteration the file held, in order
    end = time.monotonic() + 2.5 * runs.AUTOSAVE_S
    while time.monotonic() < end:
        it = store.info(rid).iteration
        if not saved or saved[-1] != it:
            saved.append(it)
        time.sleep(0.05)
    assert sess.group.read()[0].iteration > saved[-1]   # it trained on well past its last save...
    assert 2 <= len(saved) <= 4                        # ...saved about every AUTOSAVE_S, not on every chunk
    click(at, "play")                                  # Pause: saved at once
    assert not sess.playing and store.info(rid).iteration == trainer(at).iteration > saved[-1]


def test_play_is_sized_by_time_not_by_n_iters(store):
    at = session()
    small(at)
    at.number_input(key="n_iters").set_value(1)
    at.run()
    click(at, "play")
    group = session_of(at.session_state).group
    assert wait_until(lambda: group.chunks >= 6)
    click(at, "play")
    assert group.chunk_size > 1 and trainer(at).iteration > 2 * group.chunks   # chunks grew with the speed


def test_a_failed_save_warns_and_training_goes_on(store, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("CHAR_RNN_RUNS_DIR", str(blocker / "runs"))  # cannot be created
    at = session()
    small(at)
    train(at, 5)
    assert "Could not save this run" in messages(at.warning) and not at.exception
    assert trainer(at).iteration == 5 and "run" not in at.query_params
    train(at, 5)
    assert trainer(at).iteration == 10
    blocker.unlink()  # the disk is back: the same folder can be made and written now
    train(at, 1)
    assert "Could not save" not in messages(at.warning) and RunStore(blocker / "runs").info(run_id(at)).iteration == 11


# ---- pure helpers --------------------------------------------------------------------------
def test_merged_query_keeps_other_keys_and_reports_no_change():
    wanted = {"ws": "a" * 24, "corpus": "prose"}
    assert runs.merged_query({"ws": "a" * 24, "corpus": "prose", "other": "1"}, wanted) is None
    assert runs.merged_query({"run": "0123456789ab", "other": "1"}, wanted) == {**wanted, "other": "1"}


def test_md_escape_and_age():
    assert runs.md_escape("[a](http://b) *c* <i>") == r"\[a\]\(http:small[]\:\/\/b\) \*c\* \<i\>"
    assert runs.age(5) == "just now" and runs.age(125) == "2 min ago" and runs.age(7200) == "2 h ago"
    assert runs.age(3 * 86400) == "3 days ago"
    assert runs.valid_workspace_id(runs.new_workspace_id()) and not runs.valid_workspace_id("A" * 24)
