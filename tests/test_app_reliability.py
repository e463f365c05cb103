"""Bad input at the page level: everything a person can type, upload or push to the end of a slider.

Each case: a clear message in the page (words a person can act on), no exception element, and the
run that was there before untouched, bit for bit (tests/helpers_reliability.py). The engine-level
twins of these cases are in tests/test_bad_input_*.py; links (?run=, ?ws=, settings) are in
tests/test_runs_app.py.

A file over MAX_UPLOAD_MB never reaches the app: Streamlit's uploader refuses it in the browser
(server.maxUploadSize). The largest file it lets through is tested here instead.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import limits
from rnn_core.checkpoint import to_bytes
from ui.session.session import session_of
from tests.helpers_app import click, in_worker, messages, session, small, train
from tests.helpers_app import trainer as tr  # `trainer` names the run under test in these tests
from tests.helpers_files import npz, rewritten, zip_bytes
from tests.helpers_reliability import assert_same, small_trainer, snapshot
from tests.helpers_workers import wait_until

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _ours_with(**changes) -> bytes:
    """A real checkpoint of a small run, with some arrays replaced."""
    return rewritten(small_trainer(5), **changes)


@pytest.fixture
def at() -> AppTest:
    """A small run (H=8, T=10) trained 5 iterations, with a sample generated: something to keep."""
    app = session(timeout=120)
    small(app)
    train(app, 5)
    assert not app.exception and session_of(app.session_state).trainer.iteration == 5
    return app


def untouched(at: AppTest, before: dict, trainer) -> None:
    assert not at.exception, at.exception
    assert tr(at) is trainer
    assert_same(snapshot(trainer), before)


# ---- the text uploader ---------------------------------------------------------------------
BIG_ASCII = b"abcdefghij\n" * (limits.MAX_UPLOAD_MB * 1024 * 1024 // 11)  # the largest the uploader lets in
BAD_TEXTS = [
    ("empty.txt", b"", ["empty"]),
    ("blank.md", b"  \n\t\n ", ["empty"]),
    ("random.txt", np.random.default_rng(0).bytes(4096), ["binary", "NUL"]),
    ("photo.txt", PNG, ["PNG image"]),
    ("archive.txt", zip_bytes("a perfectly good text, but zipped"), ["ZIP archive"]),
    ("utf16.txt", "hello, world\n".encode("utf-16"), ["UTF-16", "UTF-8"]),
    ("utf16-nobom.txt", "hello, world\n".encode("utf-16-le"), ["UTF-16"]),
    ("latin1.md", "café crème brûlée".encode("latin-1"), ["not valid UTF-8", "Latin-1"]),
    ("huge.txt", BIG_ASCII, [f"limit is {limits.MAX_TEXT_CHARS:,}"]),
    ("one-char.txt", b"a" * 5000, ["single distinct character"]),
    ("cjk.txt", "".join(chr(0x4E00 + i) for i in range(5000)).encode("utf-8"),
     ["5,000 distinct characters", f"limit is {limits.MAX_VOCAB}"]),
]


@pytest.mark.parametrize("name, data, words", BAD_TEXTS, ids=[c[0] for c in BAD_TEXTS])
def test_a_bad_text_file_is_refused_with_a_reason_and_the_run_is_untouched(at, name, data, words):
    trainer, before = tr(at), snapshot(tr(at))
    at.file_uploader(key="upload").set_value((name, data, "text/plain"))
    at.run()
    shown = messages(at.error)
    assert name in shown and "The current run is unchanged" in shown
    for w in words:
        assert w in shown, (w, shown)
    untouched(at, before, trainer)
    assert at.selectbox(key="corpus").value == "prose" and session_of(at.session_state).custom_text is None
    at.number_input(key="n_iters").set_value(3)  # the page goes on working, the reason stays shown
    at.button(key="train").click()
    at.run()
    assert not at.exception and trainer.iteration == 8 and name in messages(at.error)


# ---- the checkpoint uploader ---------------------------------------------------------------
BAD_CHECKPOINTS = [
    ("empty.npz", b"", ["not a checkpoint saved by the playground", "ZIP"]),
    ("notes.npz", b"just some text, renamed", ["not a checkpoint saved by the playground"]),
    ("half.npz", to_bytes(small_trainer(5))[:3000], ["damaged"]),
    ("numbers.npz", npz(a=np.arange(5), b=np.ones((3, 3))), ["not saved by the playground"]),
    ("pickled.npz", npz(obj=np.array([{"x": 1}], dtype=object)), ["pickled", "never loaded"]),
    ("pickled-inside.npz", _ours_with(config=np.array([{"x": 1}], dtype=object)), ["pickled"]),
    ("shapes.npz", _ours_with(**{"param/Wxh": np.zeros((16, 40))}), ["Wxh", "shape (16, 40)", "need (16, 52)"]),
    ("vocab.npz", None, ["does not match its vocabulary"]),
]


@pytest.mark.parametrize("name, data, words", BAD_CHECKPOINTS, ids=[c[0] for c in BAD_CHECKPOINTS])
def test_a_bad_checkpoint_is_refused_with_a_reason_and_the_run_is_untouched(at, name, data, words):
    if data is None:  # computed here: the vocabulary of the real checkpoint, minus three characters
        with np.load(io.BytesIO(to_bytes(small_trainer(5))), allow_pickle=False) as z:
            data = _ours_with(vocab=z["vocab"][:-3])
    trainer, before = tr(at), snapshot(tr(at))
    at.file_uploader(key="checkpoint_upload").set_value((name, data, "application/octet-stream"))
    at.run()
    shown = messages(at.error)
    assert f"Could not load {name}" in shown and "The current run is unchanged" in shown
    for w in words:
        assert w in shown, (w, shown)
    untouched(at, before, trainer)


# ---- typing --------------------------------------------------------------------------------
def test_probe_text_outside_the_vocabulary_warns_and_leaves_the_run(at):
    trainer, before = tr(at), snapshot(tr(at))
    at.text_area(key="probe_text").set_value("the cat 🐈 sat on the mat ~ ∑ €")
    at.run()
    warning = messages(at.warning)
    assert "training text never uses them" in warning
    for ch in ("🐈", "∑", "€"):
        assert f"‘{ch}’" in warning
    untouched(at, before, trainer)
    at.text_area(key="probe_text").set_value("🐈🐈")  # nothing left to probe
    at.run()
    assert "Type a few characters" in messages(at.info)
    untouched(at, before, trainer)


# ---- sliders and number boxes at their ends ------------------------------------------------
def test_n_iters_at_one_and_at_its_maximum(at):
    trainer = tr(at)
    at.number_input(key="n_iters").set_value(1)
    at.button(key="train").click()
    at.run()
    assert not at.exception and trainer.iteration == 6
    at.number_input(key="n_iters").set_value(limits.MAX_ITERS_PER_CLICK)  # 10,000 at H=8: about a second
    at.button(key="train").click()
    at.run()
    assert not at.exception and trainer.iteration == 6 + limits.MAX_ITERS_PER_CLICK
    assert len(trainer.history) == trainer.iteration and not at.get("progress")


def test_hidden_size_and_seed_at_their_maximum(at):
    at.number_input(key="hidden_size").set_value(limits.MAX_HIDDEN)
    at.number_input(key="seed").set_value(2**31 - 1)
    at.button(key="reset").click()
    at.run()
    assert not at.exception
    big = tr(at)
    assert big.config.hidden_size == limits.MAX_HIDDEN and big.config.seed == 2**31 - 1
    at.number_input(key="n_iters").set_value(2)
    at.button(key="train").click()
    at.run()
    assert not at.exception and big.iteration == 2 and len(at.get("plotly_chart")) >= 3


def test_sequence_longer_than_the_text_is_refused_on_reset(at):
    at.selectbox(key="corpus").set_value("hello world")  # 96 characters
    at.run()
    trainer, before = tr(at), snapshot(tr(at))
    at.number_input(key="seq_length").set_value(limits.MAX_SEQ_LENGTH)
    at.button(key="reset").click()
    at.run()
    shown = messages(at.error)
    assert "Reset failed, the run is unchanged" in shown and "characters" in shown
    untouched(at, before, trainer)


@pytest.mark.parametrize("temperature", [0.05, 2.0])
def test_longest_sample_at_the_temperature_ends(at, temperature):
    trainer, before = tr(at), snapshot(tr(at))
    at.number_input(key="sample_length").set_value(limits.MAX_SAMPLE_LENGTH)
    at.slider(key="temperature").set_value(temperature)
    at.number_input(key="top_k").set_value(trainer.vocab.size)
    at.button(key="generate").click()
    at.run()
    sample = session_of(at.session_state).sample
    assert len(sample) == limits.MAX_SAMPLE_LENGTH and set(sample) <= set(trainer.vocab.chars)
    untouched(at, before, trainer)


def test_smallest_learning_rate_and_largest_clip_train(at):
    trainer = tr(at)
    at.number_input(key="learning_rate").set_value(1e-5)
    at.number_input(key="clip").set_value(1000.0)
    at.run()
    at.number_input(key="n_iters").set_value(20)
    at.button(key="train").click()
    at.run()
    assert not at.exception and not at.error and trainer.iteration == 25
    assert trainer.config.learning_rate == 1e-5 and trainer.config.clip == 1000.0


# ---- divergence ----------------------------------------------------------------------------
def test_largest_learning_rate_without_clipping_diverges_with_a_reset_hint(at):
    at.selectbox(key="optimizer").set_value("sgd")
    at.number_input(key="learning_rate").set_value(100.0)
    at.number_input(key="clip").set_value(0.0)
    at.run()
    trainer = tr(at)
    at.button(key="play").click()
    at.run()
    assert wait_until(lambda: not session_of(at.session_state).group.playing)  # the worker diverges, Play ends
    at.run()
    assert not at.exception and not session_of(at.session_state).playing
    shown = messages(at.error)
    assert "diverged" in shown and "press **Reset**" in shown and "Play was paused" in shown
    assert tr(at) is trainer and np.isfinite(in_worker(trainer).model.flat).all() and np.isfinite(trainer.history.loss).all()
    before = snapshot(trainer)
    at.run()  # nothing moves while paused; the message stays
    assert "diverged" in messages(at.error)
    untouched(at, before, trainer)
    at.button(key="reset").click()
    at.run()
    assert not at.error and tr(at).iteration == 0


def test_an_overflowing_update_asks_for_a_lower_learning_rate_and_the_run_goes_on(at):
    # One stream, as min-char-rnn: its window's gradient is large enough that the update below overflows at
    # once (averaged over the page's 32 streams it can stay finite and diverge one step later, on the loss).
    at.number_input(key="batch_size").set_value(1)
    click(at, "reset")
    train(at, 5)
    trainer = tr(at)
    assert (trainer.config.batch_size, trainer.iteration) == (1, 5)
    # The engine's other kind of divergence, for real in the worker: an update so large that the parameters
    # would overflow (a rate beyond the sidebar's range, so set on the run itself); the kept model is healthy.
    trainer.apply_live(optimizer="sgd", learning_rate=1e308)
    before = snapshot(trainer)
    at.button(key="train").click()
    at.run()
    shown = messages(at.error)
    assert "diverged" in shown and "lower the learning rate" in shown and "press **Reset**" not in shown
    untouched(at, before, trainer)
    trainer.apply_live(learning_rate=0.1)  # lower rate, train on: the same run continues and the message goes
    at.button(key="train").click()
    at.run()
    assert not at.exception and not at.error and tr(at) is trainer and trainer.iteration == 10
