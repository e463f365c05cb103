"""Learner polish on the page: one run per text, uploaders that show the file in use, limits that are said.

AppTest for the page, plain dicts for the session's methods.
"""
from __future__ import annotations

import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer, limits
from rnn_core.checkpoint import to_bytes
from tests.helpers_app import click, in_worker, messages, ok, session, small, train, trainer, unescape
from ui.session import bounds, state, uploads
from ui.session.session import MAX_PARKED_TEXTS, Run, session_of

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test


@pytest.fixture(autouse=True)
def _pool(request):
    """The dict sessions of this file train in the test's own worker pool (tests/conftest.py)."""
    global POOL
    POOL = request.getfixturevalue("pool")
    yield


def dict_session(corpus: str = "hello world") -> dict:
    ss = {"corpus": corpus, "hidden_size": 8, "seq_length": 10}
    session_of(ss, POOL)
    state.init_state(ss)
    return ss


def pick(ss: dict, name: str) -> None:
    ss["corpus"] = name
    state.switch_corpus(ss)


# ---- one run per text ----------------------------------------------------------------------
def test_switching_texts_parks_the_run_and_switching_back_restores_it():
    ss = dict_session()
    sess = session_of(ss)
    sess.train(30)
    run, tr = sess.active_run, sess.trainer
    weights, history = in_worker(tr).model.flat.copy(), tr.history.loss.copy()
    pick(ss, "prose")
    assert sess.trainer.text != tr.text and sess.trainer.iteration == 0 and tr.iteration == 30
    # Parked: saved at iteration 30 and its worker released to the run store, not holding a place.
    assert run.run_id not in POOL.live_runs() and POOL.store.load(run.run_id).iteration == 30
    assert sess.texts() == ["prose", "hello world"] and state.corpus_options(ss)[:2] == ["hello world", "prose"]
    sess.train(7)
    prose_run = sess.active_run
    pick(ss, "hello world")
    assert sess.active_run is run and sess.trainer is tr and run.run_id == sess.active_run.run_id
    assert run.run_id in POOL.live_runs()  # back from the run store, under the same id
    assert tr.iteration == 30 and np.array_equal(in_worker(tr).model.flat, weights)
    assert np.array_equal(tr.history.loss, history) and in_worker(tr).iteration == 30
    assert ss["probe_text"] == tr.text[:80] and ss["hidden_size"] == 8
    assert "Back to your run on “hello world”, at iteration 30" in sess.take_notices("data")[-1][1]
    pick(ss, "prose")
    assert sess.active_run is prose_run and prose_run.trainer.iteration == 7
    sess.train(3)  # the run that came back trains on in its worker
    assert in_worker(prose_run.trainer).iteration == 10


def test_a_parked_run_whose_save_is_refused_keeps_its_worker_and_loses_nothing():
    ss = dict_session()
    sess = session_of(ss)
    sess.train(12)
    sess.group.save()                                # the run store holds iteration 12
    sess.train(8)
    sess.group.mark_broken(0, "a view failed")       # from now on its worker refuses every save
    run = sess.active_run
    pick(ss, "prose")
    assert run.run_id in POOL.live_runs() and POOL.store.load(run.run_id).iteration == 12
    pick(ss, "hello world")
    assert sess.active_run is run and run.trainer.iteration == 20 and in_worker(run.trainer).iteration == 20


def test_reopening_a_parked_run_by_its_id_brings_back_the_parked_run_not_a_second_worker():
    ss = dict_session()
    sess = session_of(ss)
    sess.train(6)
    run = sess.active_run
    pick(ss, "prose")
    prose_id = sess.active_run.run_id
    state.restore(ss, POOL.store.load(run.run_id), "hello world", run_id=run.run_id)  # "Your saved runs": open
    assert sess.active_run is run and run.trainer.iteration == 6 and ss["corpus"] == "hello world"
    # one worker, the run shown; prose's run (at iteration 0) is parked without one
    assert POOL.live_runs() == [run.run_id] and [r.run_id for r in sess.parked["prose"].runs] == [prose_id]
    sess.train(2)
    assert in_worker(run.trainer).iteration == 8


def test_the_group_of_a_text_comes_back_whole_and_parking_is_bounded():
    ss = dict_session()
    sess = session_of(ss)
    state.add_run(ss, TrainConfig(hidden_size=4, seq_length=10))
    sess.train(5)
    sess.select(1)
    group = list(sess.runs)
    pick(ss, "prose")
    assert len(sess.runs) == 1
    pick(ss, "hello world")
    assert sess.runs == group and sess.active == 1
    for i in range(MAX_PARKED_TEXTS + 2):  # many uploads: the oldest parked texts go first
        state.new_run(ss, f"text number {i} " * 20, f"t{i}.txt (uploaded)")
    assert len(sess.parked) == MAX_PARKED_TEXTS and "hello world" not in sess.parked
    # Parked runs hold no worker; the ones let go stay saved in the run store at their iterations.
    assert POOL.live_runs() == [sess.active_run.run_id]
    assert [POOL.store.load(r.run_id).iteration for r in group] == [5, 5]


def test_a_failed_switch_keeps_the_run_and_parks_nothing():
    ss = dict_session(corpus="prose")
    sess = session_of(ss)
    tr = sess.trainer
    ss["seq_length"] = 200  # hello world is too short for windows of 200
    pick(ss, "hello world")
    assert sess.trainer is tr and sess.parked == {} and ss["corpus"] == "prose"


def test_reopening_a_text_by_a_checkpoint_replaces_its_parked_run():
    ss = dict_session()
    sess = session_of(ss)
    sess.train(4)
    pick(ss, "prose")
    assert "hello world" in sess.parked
    other = Trainer("hello world\n" * 8, TrainConfig(hidden_size=6, seq_length=10))
    other.step(9)
    ss["checkpoint_upload"] = FakeFile("hw.npz", to_bytes(other))
    uploads.upload_checkpoint(ss)
    assert sess.active_run.source == "hello world" and sess.trainer.iteration == 9  # one run per text
    assert "hello world" not in sess.parked and "prose" in sess.parked


class FakeFile:
    def __init__(self, name: str, data: bytes, file_id: str | None = None):
        self.name, self.data, self.file_id = name, data, file_id or f"{name}-{len(data)}"

    @property
    def size(self) -> int:
        return len(self.data)

    def getvalue(self) -> bytes:
        return self.data


def test_the_page_keeps_one_run_per_text_and_lists_saved_runs_by_text(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAR_RNN_RUNS_DIR", str(tmp_path))
    at = session()
    small(at)
    train(at, 20)
    first = session_of(at.session_state).active_run
    at.selectbox(key="corpus").set_value("hello world")
    ok(at)
    assert trainer(at).iteration == 0
    train(at, 5)
    at.selectbox(key="corpus").set_value("prose")
    ok(at)
    assert session_of(at.session_state).active_run is first and trainer(at).iteration == 20
    assert at.metric[0].value == "20" and "Back to your run on “prose”" in messages(at.success)
    lines = [m.value for m in at.sidebar.markdown if "iteration" in str(m.value)]
    assert any(line.startswith("**prose**") and "iteration 20" in line for line in lines)
    assert any(line.startswith("**hello world**") and "iteration 5" in line for line in lines)


# ---- uploads -------------------------------------------------------------------------------
def test_a_refused_upload_is_taken_out_and_its_reason_stays():
    at = session()
    small(at)
    at.file_uploader(key="upload").set_value(("picture.txt", PNG, "text/plain"))
    ok(at)
    assert [u.key for u in at.file_uploader] == ["upload_1", "checkpoint_upload"]  # a fresh, empty box
    assert at.file_uploader(key="upload_1").value is None
    shown = messages(at.error)
    assert "Could not use picture.txt" in shown and "taken out of the box" in shown
    train(at, 3)
    assert "Could not use picture.txt" in messages(at.error)  # the reason stays until the next file
    at.file_uploader(key="upload_1").set_value(("cats.txt", ("the cat sat. " * 30).encode(), "text/plain"))
    ok(at)
    assert not at.error and at.selectbox(key="corpus").value == "cats.txt (uploaded)"
    assert at.file_uploader(key="upload_1").value is not None  # the file in use stays in its box
    at.selectbox(key="corpus").set_value("prose")
    ok(at)
    assert [u.key for u in at.file_uploader][0] == "upload_2"  # not in use any more: the box empties
    at.selectbox(key="corpus").set_value("cats.txt (uploaded)")
    ok(at)
    assert any("This run came from your file cats.txt." in unescape(c.value) for c in at.sidebar.caption)


def test_a_checkpoint_trained_on_prose_says_prose():
    at = session()
    prose = Trainer(__import__("assets.corpora").corpora.read_corpus("prose"), TrainConfig(hidden_size=6))
    prose.step(12)
    at.selectbox(key="corpus").set_value("hello world")
    ok(at)
    at.file_uploader(key="checkpoint_upload").set_value(("mine.npz", to_bytes(prose), "application/octet-stream"))
    ok(at)
    assert at.selectbox(key="corpus").value == "prose" and trainer(at).iteration == 12
    caption = [unescape(c.value) for c in at.sidebar.caption if "This run came from" in c.value][0]
    assert "plain English" in caption and "the checkpoint mine.npz" in caption and "Your own text" not in caption
    assert "trained on “prose”" in messages(at.success)


# ---- limits that are said ------------------------------------------------------------------
def test_too_many_iterations_are_said_and_train_runs_what_the_box_shows():
    at = session()
    small(at)
    at.number_input(key="n_iters").set_value(20_000)
    ok(at)
    assert at.number_input(key="n_iters").value == limits.MAX_ITERS_PER_CLICK
    warning = messages(at.warning)
    assert "at most 10,000 iterations; 20,000 was typed, so the box now says 10,000" in warning
    at.number_input(key="n_iters").set_value(0)
    ok(at)
    assert at.number_input(key="n_iters").value == 1 and "at least 1" in messages(at.warning)
    click(at, "train")
    assert trainer(at).iteration == 1  # what the box shows, nothing else


@pytest.mark.parametrize("key, typed, shown, words", [
    ("hidden_size", 600, limits.MAX_HIDDEN, f"Hidden units: at most {limits.MAX_HIDDEN}; 600 was typed"),
    ("seq_length", 0, 1, "Sequence length: at least 1; 0 was typed"),
    ("learning_rate", 500.0, 100.0, "Learning rate: at most 100; 500 was typed"),
    ("sample_length", 9_000, limits.MAX_SAMPLE_LENGTH, "Length: at most 5,000; 9,000 was typed"),
])
def test_every_bounded_box_says_its_limit(key, typed, shown, words):
    at = session()
    at.number_input(key=key).set_value(typed)
    ok(at)
    assert at.number_input(key=key).value == shown
    assert words in messages(at.warning)


def test_clamp_on_a_dict_applies_then_on_the_clamped_value():
    ss = dict_session()
    session_of(ss).take_notices("settings")  # hello world's streams fitted to its length (tested elsewhere)
    seen = []
    ss["clip"] = 5000.0
    assert bounds.clamp(ss, "clip", 0.0, 1000.0, "settings", "Gradient clip", then=lambda s: seen.append(s["clip"]))
    assert ss["clip"] == 1000.0 and seen == [1000.0]
    assert not bounds.clamp(ss, "clip", 0.0, 1000.0, "settings", "Gradient clip")
    [(kind, msg)] = session_of(ss).take_notices("settings")
    assert kind == "warning" and msg == "Gradient clip: at most 1,000; 5,000 was typed, so the box now says 1,000."
    assert isinstance(Run, type)
