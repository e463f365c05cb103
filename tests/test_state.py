"""The session actions of ui/session/ (state, training, uploads, using) on a plain dict, without Streamlit."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from assets.corpora import read_corpus
from rnn_core import TrainConfig, Trainer, limits
from rnn_core.checkpoint import to_bytes
from rnn_core.presets import FAST
from ui.session.workers import MAX_CHUNK
from ui.session import compare, state, training, uploads, using
from ui.session.session import session_of
from tests.helpers_app import in_worker, unescape
from tests.helpers_workers import wait_until

HELLO = read_corpus("hello world")


@dataclass
class FakeUpload:
    """What st.file_uploader hands over: name, size, file_id, getvalue()."""

    name: str
    data: bytes
    file_id: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    def getvalue(self) -> bytes:
        return self.data


@pytest.fixture(autouse=True)
def _pool(pool):
    """Every session of this file trains in the test's own worker pool (tests/conftest.py)."""
    global POOL
    POOL = pool
    yield


def new_ss(**widgets) -> dict:
    ss = dict(widgets)
    session_of(ss, POOL)
    return ss


def small_session(**widgets) -> dict:
    ss = new_ss(**{"corpus": "hello world", "hidden_size": 8, "seq_length": 10, **widgets})
    state.init_state(ss)
    return ss


def test_init_state_builds_one_active_run_from_widgets():
    ss = small_session()
    assert len(session_of(ss).runs) == 1 and session_of(ss).active == 0
    tr = session_of(ss).trainer
    assert tr is session_of(ss).runs[0].trainer and tr.text == HELLO
    assert (tr.config.hidden_size, tr.config.seq_length) == (8, 10)
    assert ss["probe_text"] == HELLO[:80] and ss["seed_char"] == HELLO[0]
    assert ss["n_iters"] == 100 and session_of(ss).playing is False and session_of(ss).sample == ""
    run_id = session_of(ss).runs[0].run_id
    state.init_state(ss)  # idempotent
    assert session_of(ss).runs[0].run_id == run_id


def test_init_state_with_bad_widget_values_falls_back_to_defaults():
    ss = new_ss(corpus="hello world", seq_length=150)  # longer than the 96-char text
    state.init_state(ss)
    assert session_of(ss).trainer.config == TrainConfig() and ss["seq_length"] == 25


def test_train_steps_every_run_in_lock_step_and_records_timing():
    ss = small_session()
    state.add_run(ss, TrainConfig(hidden_size=4, seq_length=10))
    out = session_of(ss).train(37)
    assert out.iters == 37 and out.error is None and out.seconds > 0
    assert [r.trainer.iteration for r in session_of(ss).runs] == [37, 37]
    assert [in_worker(r.trainer).iteration for r in session_of(ss).runs] == [37, 37]
    assert session_of(ss).last_train["iters"] == 37 and session_of(ss).group.speed() > 0


def test_train_caps_a_click_and_reports_progress_in_chunks():
    ss = small_session()
    seen = []
    session_of(ss).train(limits.MAX_ITERS_PER_CLICK + 5, on_progress=lambda done, total: seen.append((done, total)))
    assert session_of(ss).trainer.iteration == limits.MAX_ITERS_PER_CLICK
    assert len(seen) >= 2 and seen[-1] == (limits.MAX_ITERS_PER_CLICK, limits.MAX_ITERS_PER_CLICK)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_train_click_uses_progress_only_for_long_clicks():
    """The bar is decided from the group's measured speed: over PROGRESS_AFTER_S at that speed, or speed unknown."""
    ss = small_session(n_iters=50)
    sess = session_of(ss)
    calls = []
    assert training.expected_seconds(sess, 50) is None  # nothing measured yet: a bar, to be safe
    training.train_click(ss, lambda d, t: calls.append(d))
    assert sess.trainer.iteration == 50 and calls and calls[-1] == 50 and sess.train_rate > 0  # measured now
    assert calls == sorted(calls)
    assert sess.train_rate == sess.group.speed()
    assert training.expected_seconds(sess, 50) == pytest.approx(50 / sess.train_rate)
    slow = lambda: 100.0  # noqa: E731  as on a slow, busy machine: the group measured 100 it/s
    sess.group.speed = slow
    assert training.expected_seconds(sess, 150) == pytest.approx(1.5)
    ss["n_iters"] = 60  # 0.6 s at 100 it/s: no bar
    calls.clear()
    training.train_click(ss, lambda d, t: calls.append(d))
    assert calls == [] and sess.trainer.iteration == 110 and in_worker(sess.trainer).iteration == 110
    sess.group.speed = slow
    ss["n_iters"] = 150  # 1.5 s at 100 it/s: a bar, though 150 is a small count
    training.train_click(ss, lambda d, t: calls.append(d))
    assert sess.trainer.iteration == 260 and calls and calls[-1] == 150


def test_divergence_pauses_keeps_run_and_sets_error():
    ss = small_session(optimizer="sgd", learning_rate=100.0, clip=0.0, hidden_size=16)
    sess = session_of(ss)
    tr = sess.trainer
    state.set_playing(ss, True)
    assert wait_until(lambda: not sess.group.playing)          # the worker stops Play by itself
    assert sess.play_ended() and sess.playing is False and not sess.play_on
    assert "diverged" in sess.runs[0].error and "diverged" in sess.group.error
    model = in_worker(tr)
    assert np.isfinite(model.model.flat).all() and model.iteration == tr.iteration
    state.reset(ss)
    assert session_of(ss).runs[0].error is None and session_of(ss).trainer.iteration == 0


def test_play_chunks_are_sized_by_time_whatever_n_iters():
    ss = small_session(n_iters=30)  # the Train button's setting; Play is sized by the measured speed only
    sess = session_of(ss)
    assert sess.group.chunk_size == 1   # no measurement yet: the first chunk is one iteration
    state.set_playing(ss, True)
    assert wait_until(lambda: sess.group.chunks >= 8)
    state.set_playing(ss, False)
    k, rate = sess.group.chunk_size, sess.group.speed()
    # H=8 trains thousands of it/s: a tenth of a second of it is far more than the 30 in the box
    assert 30 < k <= MAX_CHUNK and rate > 0 and sess.trainer.iteration > 8 * 30


def test_play_and_pause_are_idempotent():
    ss = small_session()
    state.set_playing(ss, True)
    state.set_playing(ss, True)  # the same click delivered twice stays "playing"
    assert session_of(ss).playing is True
    state.set_playing(ss, False)
    state.set_playing(ss, False)
    assert session_of(ss).playing is False


def test_live_settings_apply_to_the_running_model():
    ss = small_session()
    session_of(ss).train(5)
    tr = session_of(ss).trainer
    ss.update(learning_rate=0.02, optimizer="adam", clip=0.0)
    state.apply_live_settings(ss)
    assert session_of(ss).trainer is tr and tr.iteration == 5
    assert (tr.config.learning_rate, tr.config.optimizer, tr.config.clip) == (0.02, "adam", None)
    assert in_worker(tr).config == tr.config                  # changed in the worker, not only in the mirror
    ss["clip"] = 2.5
    state.apply_live_settings(ss)
    assert tr.config.clip == 2.5 and in_worker(tr).config.clip == 2.5


def test_bad_live_setting_is_refused_with_a_notice_and_widgets_restored():
    ss = small_session()
    tr = session_of(ss).trainer
    session_of(ss).take_notices("settings")  # hello world's streams fitted to its length (tested elsewhere)
    ss["learning_rate"] = float("nan")
    state.apply_live_settings(ss)
    lr = FAST["learning_rate"]  # the page's default
    assert tr.config.learning_rate == lr and ss["learning_rate"] == lr
    assert in_worker(tr).config.learning_rate == lr
    [(kind, msg)] = session_of(ss).take_notices("settings")
    assert kind == "error" and "learning rate" in msg


def test_pending_changes_and_reset_applies_them():
    ss = small_session()
    session_of(ss).train(5)
    tr = session_of(ss).trainer
    assert state.pending_changes(ss) == []
    ss.update(hidden_size=12, seed=3)
    assert state.pending_changes(ss) == [("hidden size", 8, 12), ("seed", 0, 3)]
    assert session_of(ss).trainer is tr and tr.iteration == 5  # nothing wiped
    state.reset(ss)
    new = session_of(ss).trainer
    assert new is not tr and new.iteration == 0 and in_worker(new).model.H == 12 and new.config.seed == 3
    assert state.pending_changes(ss) == [] and session_of(ss).runs[0].source == "hello world"


def test_reset_with_impossible_settings_keeps_the_run():
    ss = small_session()
    session_of(ss).train(5)
    tr = session_of(ss).trainer
    ss["seq_length"] = 150  # the hello text has 96 characters
    state.reset(ss)
    assert session_of(ss).trainer is tr and tr.iteration == 5
    [(kind, msg)] = session_of(ss).take_notices("controls")
    assert kind == "error" and "unchanged" in msg


def test_switch_corpus_starts_a_run_on_that_text():
    ss = small_session()
    ss["corpus"] = "code (brackets)"
    state.switch_corpus(ss)
    assert session_of(ss).trainer.text == read_corpus("code (brackets)") and session_of(ss).trainer.iteration == 0
    assert session_of(ss).runs[0].source == "code (brackets)"
    assert ss["probe_text"] == session_of(ss).trainer.text[:80]


def test_upload_text_once_per_file():
    ss = small_session()
    text = "abc abd abe\n" * 10
    ss["upload"] = FakeUpload("mine.md", text.encode(), file_id="f1")
    uploads.upload_text(ss)
    tr = session_of(ss).trainer
    label = "mine.md (uploaded)"
    assert tr.text == text and ss["corpus"] == label and session_of(ss).custom_text == (label, text)
    assert label in state.corpus_options(ss) and uploads.in_use(ss, uploads.TEXT)
    session_of(ss).train(3)
    uploads.upload_text(ss)  # same file_id again (a rerun): ignored
    assert session_of(ss).trainer is tr and tr.iteration == 3
    ss["corpus"] = "prose"
    state.switch_corpus(ss)
    uploads.sync(ss)  # the box held mine.md, no longer in use: it is emptied (a new key)
    assert not uploads.in_use(ss, uploads.TEXT) and uploads.uploader_key(ss, uploads.TEXT) == "upload_1"
    ss["corpus"] = label  # the uploaded text stays selectable, and its run comes back as it was
    state.switch_corpus(ss)
    assert session_of(ss).trainer is tr and tr.iteration == 3


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00", b"", b"\xff\xfeh\x00i\x00", b"caf\xe9 " * 20,
                                  b"ab"])
def test_bad_upload_leaves_everything_as_it_was(data):
    ss = small_session()
    session_of(ss).train(4)
    tr, params = session_of(ss).trainer, in_worker(session_of(ss).trainer).model.flat.copy()
    sess = session_of(ss)
    before = ({k: ss[k] for k in ("corpus", "probe_text")}, sess.custom_text, sess.active, list(sess.runs))
    ss["upload"] = FakeUpload("bad.txt", data, file_id="b1")
    uploads.upload_text(ss)
    assert session_of(ss).trainer is tr and tr.iteration == 4 and np.array_equal(in_worker(tr).model.flat, params)
    assert ({k: ss[k] for k in before[0]}, sess.custom_text, sess.active, list(sess.runs)) == before
    assert unescape(uploads.file_error(ss, "upload")).startswith("Could not use bad.txt")
    key = uploads.uploader_key(ss, uploads.TEXT)
    assert key == "upload_1"  # the refused file is taken out: the box is drawn afresh, empty
    ss[key] = FakeUpload("other.txt", b"x", file_id="b2")  # the next file: the old reason goes, the new one stays
    uploads.upload_text(ss)
    assert unescape(uploads.file_error(ss, "upload")).startswith("Could not use other.txt")


def test_checkpoint_upload_restores_run_and_syncs_widgets():
    ss = small_session()
    other = Trainer("the quick brown fox\n" * 5, TrainConfig(hidden_size=6, seq_length=7, optimizer="adam",
                                                           learning_rate=0.01, clip=None, seed=9))
    other.step(11)
    ss["checkpoint_upload"] = FakeUpload("fox.npz", to_bytes(other), file_id="c1")
    uploads.upload_checkpoint(ss)
    tr = session_of(ss).trainer
    assert tr.iteration == 11 and np.array_equal(in_worker(tr).model.flat, other.model.flat)
    assert (ss["hidden_size"], ss["seq_length"], ss["seed"], ss["optimizer"], ss["learning_rate"], ss["clip"]) == \
           (6, 7, 9, "adam", 0.01, 0.0)
    assert state.pending_changes(ss) == [] and ss["corpus"] == "text of fox.npz"
    assert session_of(ss).active_run.origin == "the checkpoint fox.npz" and uploads.in_use(ss, uploads.CHECKPOINT)
    assert session_of(ss).take_notices("checkpoint")[0][0] == "success"


def test_bad_checkpoint_keeps_the_run():
    ss = small_session()
    tr = session_of(ss).trainer
    ss["checkpoint_upload"] = FakeUpload("x.npz", b"PK\x03\x04garbage", file_id="c2")
    uploads.upload_checkpoint(ss)
    assert session_of(ss).trainer is tr
    assert "x.npz" in unescape(uploads.file_error(ss, "checkpoint_upload"))


def test_generate_stores_sample_without_the_seed_char():
    ss = small_session(seed_char="h", sample_length=40, temperature=0.5, sample_seed=1)
    session_of(ss).train(50)
    compare.generate_all(ss)
    s = session_of(ss).sample
    assert len(s) == 40 and set(s) <= set(session_of(ss).trainer.vocab.chars) and session_of(ss).sample_seed_char == "h"
    assert s == session_of(ss).trainer.sample("h", 40, temperature=0.5, seed=1)


def test_generate_with_a_bad_seed_char_gives_a_notice():
    ss = small_session()
    ss["seed_char"] = "Z"  # not in the hello-world text
    compare.generate_all(ss)
    assert session_of(ss).sample == ""
    [(kind, msg)] = session_of(ss).take_notices("sample")
    assert kind == "error" and "vocabulary" in msg


def test_clean_probe_text_drops_unknown_and_caps_length():
    ss = small_session()
    tr = session_of(ss).trainer
    pin = using.clean_probe_text(tr, "hello~ wörld")
    assert pin.text == "hello wrld" and pin.dropped == ["~", "ö"] and not pin.truncated
    pin = using.clean_probe_text(tr, "h" * (limits.MAX_PROBE_CHARS + 9))
    assert len(pin.text) == limits.MAX_PROBE_CHARS and pin.truncated
    assert using.clean_probe_text(tr, "").text == ""
    assert using.describe_chars([" ", "\n"]) == "‘␣ space’, ‘⏎ newline’"


def test_checkpoint_filename_is_safe():
    ss = small_session()
    session_of(ss).runs[0].source = "my notes (v2).txt (uploaded)"
    name = using.checkpoint_filename(session_of(ss).runs[0])
    assert name.endswith("-rnn-it0.npz") and "/" not in name and " " not in name


def test_notices_are_shown_once():
    ss = new_ss()
    session_of(ss).notify("data", "error", "x")
    session_of(ss).notify("data", "info", "y")
    assert session_of(ss).take_notices("data") == [("error", "x"), ("info", "y")]
    assert session_of(ss).take_notices("data") == []


def test_heatmap_window_is_centred_and_bounded():
    from ui.panels.look_inside.hidden_state import MAX_HEATMAP_CELLS, heatmap_window
    assert heatmap_window(80, 100, 5) == (0, 80)
    lo, hi = heatmap_window(400, 512, 399)
    assert hi == 400 and (hi - lo) * 512 <= MAX_HEATMAP_CELLS
    lo, hi = heatmap_window(400, 512, 0)
    assert lo == 0 and hi == MAX_HEATMAP_CELLS // 512


def test_corpus_switch_that_cannot_fit_keeps_the_run():
    ss = small_session(corpus="prose")  # no run on hello world yet: switching there makes one
    tr = session_of(ss).trainer
    ss["seq_length"] = 200
    ss["corpus"] = "hello world"  # 96 characters: too short for windows of 200
    state.switch_corpus(ss)
    assert session_of(ss).trainer is tr and ss["corpus"] == "prose"
    [(kind, msg)] = session_of(ss).take_notices("data")
    assert kind == "error" and "seq_length" in msg.replace("sequence length", "seq_length")


def test_add_run_trains_in_lock_step_and_is_capped():
    ss = small_session()
    session_of(ss).train(5)
    run = state.add_run(ss, TrainConfig(hidden_size=4, seq_length=10, learning_rate=0.3))
    assert run.trainer.text == session_of(ss).trainer.text and session_of(ss).trainer is session_of(ss).runs[0].trainer
    session_of(ss).train(3)  # lock step: the late run catches up by at most one extra batch per chunk...
    assert [r.trainer.iteration for r in session_of(ss).runs] == [8, 6]
    session_of(ss).train(6)  # ...until level
    assert [r.trainer.iteration for r in session_of(ss).runs] == [14, 14]
    state.add_run(ss, TrainConfig(hidden_size=4, seq_length=10))
    with pytest.raises(ValueError, match="At most 3"):
        state.add_run(ss, TrainConfig(hidden_size=4, seq_length=10))
    session_of(ss).select(1)
    assert session_of(ss).trainer is run.trainer


def test_restore_can_keep_a_known_run_id():
    ss = small_session()
    other = Trainer(HELLO, TrainConfig(hidden_size=5, seq_length=10))
    other.step(3)
    POOL.store.save("abc123abc123", other)                  # a known run comes back from the run store
    state.restore(ss, other, "text of a saved run", run_id="abc123abc123")
    tr = session_of(ss).trainer
    assert session_of(ss).runs[0].run_id == "abc123abc123" and tr.iteration == 3 and ss["hidden_size"] == 5
    assert np.array_equal(in_worker(tr).model.flat, other.model.flat)
