"""The page under Streamlit's AppTest: every control, every panel, with real values.

AppTest never fires `run_every`; `at.run()` again stands for one Play tick.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import asdict, replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from assets.corpora import read_corpus
from rnn_core import TrainConfig, Trainer
from rnn_core.checkpoint import load_trainer, to_bytes
from tests.helpers_app import in_worker, messages, session, train, trainer, unescape
from tests.helpers_workers import wait_until
from ui.session import using
from ui.session.session import RunSpec, session_of

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def at() -> AppTest:
    return session()


def chart_ids(at: AppTest) -> list[str]:
    return [c.proto.id for c in at.get("plotly_chart")]


def test_first_load_shows_controls_readouts_and_three_charts(at):
    assert at.title[0].value == "Char-RNN Playground"
    tr = trainer(at)
    assert tr.iteration == 0 and session_of(at.session_state).runs[0].trainer is tr
    for key in ("train", "play", "reset", "generate"):
        assert at.button(key=key) is not None
    ids = chart_ids(at)
    assert len(ids) == 3
    for key in ("loss_chart", "hidden_heatmap", "prob_bars"):
        assert sum(i.endswith(key) for i in ids) == 1, (key, ids)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Iteration"] == "0"
    assert labels["Vocabulary"] == str(tr.vocab.size)
    assert at.session_state["probe_text"] == tr.text[:80]
    assert not at.error


@pytest.mark.parametrize("steps", [(7, 30), (1, 100)])
def test_train_advances_by_n_iters(at, steps):
    tr = trainer(at)
    total = 0
    for n in steps:
        train(at, n)
        total += n
        assert trainer(at) is tr and tr.iteration == total
    assert {m.label: m.value for m in at.metric}["Iteration"] == f"{total:,}"
    assert len(tr.history) == total


def test_long_click_trains_every_iteration(at):
    at.number_input(key="hidden_size").set_value(8)
    at.button(key="reset").click()
    at.run()
    train(at, 2500)  # above PROGRESS_MIN_ITERS: chunked with a progress bar
    assert trainer(at).iteration == 2500
    assert session_of(at.session_state).last_train["iters"] == 2500
    assert not at.get("progress")  # the bar is removed when the click is done


def test_generate_gives_sample_length_chars_from_the_seed_char(at):
    train(at, 20)
    tr = trainer(at)
    at.selectbox(key="seed_char").set_value("t")
    at.number_input(key="sample_length").set_value(57)
    at.slider(key="temperature").set_value(0.7)
    at.number_input(key="sample_seed").set_value(3)
    at.button(key="generate").click()
    at.run()
    sample = session_of(at.session_state).sample
    assert isinstance(sample, str) and len(sample) == 57
    assert set(sample) <= set(tr.vocab.chars)
    assert sample == tr.sample("t", 57, temperature=0.7, seed=3)  # the seed char's continuation
    assert session_of(at.session_state).sample_seed_char == "t"
    assert at.code[0].value == "t" + sample
    assert at.get("download_button")  # sample and checkpoint downloads


def test_greedy_and_top_k(at):
    train(at, 20)
    at.toggle(key="greedy").set_value(True)
    at.number_input(key="sample_length").set_value(30)
    at.button(key="generate").click()
    at.run()
    assert session_of(at.session_state).sample == trainer(at).sample(at.session_state["seed_char"], 30, greedy=True)
    at.toggle(key="greedy").set_value(False)
    at.run()
    at.number_input(key="top_k").set_value(1)
    at.button(key="generate").click()
    at.run()
    assert session_of(at.session_state).sample == trainer(at).sample(at.session_state["seed_char"], 30, greedy=True)


def test_upload_of_text_starts_a_run_on_it(at):
    train(at, 5)
    text = "the cat sat on the mat. " * 20
    at.file_uploader(key="upload").set_value(("cats.txt", text.encode(), "text/plain"))
    at.run()
    assert not at.exception and not at.error
    tr = trainer(at)
    assert tr.text == text and tr.iteration == 0
    assert tr.vocab.chars == tuple(sorted(set(text)))
    assert at.selectbox(key="corpus").value == "cats.txt (uploaded)"
    assert "cats.txt (uploaded)" in at.selectbox(key="corpus").options
    assert "Your text, “cats.txt (uploaded)”. This run came from your file cats.txt." in [unescape(c.value) for c in at.caption]
    assert at.session_state["probe_text"] == text[:80]
    train(at, 6)
    at.run()  # the file is still in the uploader: a rerun must not start the run again
    assert trainer(at) is tr and tr.iteration == 6


@pytest.mark.parametrize("name, data, words", [
    ("picture.txt", PNG, "PNG"),
    ("empty.txt", b"", "empty"),
    ("utf16.txt", "hello".encode("utf-16"), "UTF-16"),
    ("latin1.md", "café crème".encode("latin-1"), "UTF-8"),
])
def test_bad_upload_shows_error_and_keeps_the_run(at, name, data, words):
    train(at, 5)
    tr = trainer(at)
    params = in_worker(tr).model.flat.copy()
    at.file_uploader(key="upload").set_value((name, data, "text/plain"))
    at.run()
    assert not at.exception
    assert words in messages(at.error)
    assert trainer(at) is tr and tr.iteration == 5
    assert np.array_equal(in_worker(tr).model.flat, params)
    assert at.selectbox(key="corpus").value == "prose"
    train(at, 2)  # the refused file stays in the uploader, and so does the reason
    assert words in messages(at.error) and tr.iteration == 7 and trainer(at) is tr


def test_live_settings_apply_without_reset(at):
    train(at, 5)
    tr = trainer(at)
    at.number_input(key="learning_rate").set_value(0.05)
    at.run()
    assert trainer(at) is tr and tr.iteration == 5 and tr.config.learning_rate == 0.05
    at.selectbox(key="optimizer").set_value("adam")
    at.number_input(key="clip").set_value(0.0)
    at.run()
    assert tr.config.optimizer == "adam" and tr.config.clip is None and tr.iteration == 5
    assert not at.warning  # nothing pending
    train(at, 3)
    assert tr.iteration == 8


def test_reset_required_settings_wait_for_reset(at):
    train(at, 5)
    tr = trainer(at)
    at.number_input(key="hidden_size").set_value(16)
    at.number_input(key="seq_length").set_value(10)
    at.run()
    assert trainer(at) is tr and tr.iteration == 5 and tr.config.hidden_size == 100
    notice = messages(at.warning)
    assert "hidden size **100 → 16**" in notice and "sequence length **25 → 10**" in notice
    assert at.button(key="reset").label == "Reset & apply"
    train(at, 2)  # training goes on with the old settings
    assert tr.iteration == 7 and in_worker(tr).model.H == 100
    at.button(key="reset").click()
    at.run()
    new = trainer(at)
    assert new is not tr and new.iteration == 0
    assert new.config.hidden_size == 16 and new.config.seq_length == 10 and in_worker(new).model.H == 16
    assert not at.warning and at.button(key="reset").label == "Reset"


def test_cell_selector_lists_engine_cells(at):
    from rnn_core.cells import CELLS
    opts = at.selectbox(key="cell").options
    assert opts[0].startswith("RNN") and len(opts) == len(CELLS)


def test_play_trains_in_the_worker_and_pause_stops(at):
    """Play: the worker trains on its own (the page's reruns only read); Pause stops it where it is."""
    at.button(key="play").click()
    at.run()
    sess = session_of(at.session_state)
    assert sess.playing and at.button(key="play").label == "Pause"
    live = lambda: sess.group.read()[0].iteration  # noqa: E731  (the worker's count, not this rerun's copy)
    assert wait_until(lambda: live() > 0)
    at.run()  # a redraw reads the mirror
    first = trainer(at).iteration
    assert first > 0 and at.metric[0].label == "Iteration" and at.metric[0].value == f"{first:,}"
    assert wait_until(lambda: live() > first)   # nobody reran the page: the worker trained on
    at.run()
    assert trainer(at).iteration > first
    at.button(key="play").click()
    at.run()
    assert not sess.playing and at.button(key="play").label == "Play"
    stopped = live()
    time.sleep(0.3)
    assert live() == stopped
    at.run()
    assert trainer(at).iteration == stopped


def test_divergence_shows_error_pauses_and_keeps_the_run(at):
    at.selectbox(key="optimizer").set_value("sgd")
    at.number_input(key="learning_rate").set_value(100.0)
    at.number_input(key="clip").set_value(0.0)
    at.run()
    at.button(key="play").click()
    at.run()
    sess = session_of(at.session_state)
    assert wait_until(lambda: not sess.group.playing)   # the worker diverged and ended Play by itself
    at.run()
    assert not at.exception
    assert "diverged" in messages(at.error) and "Hint" in messages(at.error)
    assert not sess.playing and at.button(key="play").label == "Play"
    at.run()
    assert "diverged" in messages(at.error)  # stays until the run trains again
    tr = trainer(at)
    assert np.isfinite(in_worker(tr).model.flat).all() and np.isfinite(tr.history.loss).all()
    it = tr.iteration
    at.button(key="generate").click()  # the page still works: sample, probe, charts
    at.run()
    assert not at.exception and len(session_of(at.session_state).sample) == 200
    assert len(at.get("plotly_chart")) == 3 and trainer(at).iteration == it
    at.button(key="reset").click()
    at.run()
    assert not at.error and trainer(at).iteration == 0


def test_checkpoint_round_trip_restores_that_run(at):
    other = Trainer("hello world\n" * 8, TrainConfig(hidden_size=12, seq_length=10, learning_rate=0.05, seed=4))
    other.step(23)
    at.file_uploader(key="checkpoint_upload").set_value(("mine.npz", to_bytes(other), "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error
    tr = trainer(at)
    assert tr.iteration == 23 and tr.text == other.text and tr.vocab.chars == other.vocab.chars
    assert np.array_equal(in_worker(tr).model.flat, other.model.flat)
    assert tr.config == other.config
    ss = at.session_state
    assert (ss["hidden_size"], ss["seq_length"], ss["seed"], ss["learning_rate"]) == (12, 10, 4, 0.05)
    assert ss["corpus"] == "hello world" and not at.warning  # its text is the built-in one; nothing pending
    assert any("hello world" in c.value and "This run came from the checkpoint mine.npz." in unescape(c.value)
               for c in at.caption)
    train(at, 2)
    assert tr.iteration == 25
    # the download button serves the same bytes the action makes
    assert any(b.proto.id.endswith("download_checkpoint") for b in at.get("download_button"))
    again = load_trainer(using.checkpoint_bytes(session_of(at.session_state), tr))
    assert again.iteration == 25 and np.array_equal(again.model.flat, in_worker(tr).model.flat)


@pytest.mark.parametrize("data", [b"not a zip at all", None])
def test_bad_checkpoint_shows_error_and_keeps_the_run(at, data):
    if data is None:  # a real zip, but not ours
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("x.npy", b"junk")
        data = buf.getvalue()
    train(at, 4)
    tr = trainer(at)
    params = in_worker(tr).model.flat.copy()
    at.file_uploader(key="checkpoint_upload").set_value(("bad.npz", data, "application/octet-stream"))
    at.run()
    assert not at.exception and "bad.npz" in messages(at.error)
    assert trainer(at) is tr and tr.iteration == 4 and np.array_equal(in_worker(tr).model.flat, params)


def test_corpus_switch_starts_a_new_run(at):
    train(at, 5)
    at.selectbox(key="corpus").set_value("hello world")
    at.run()
    tr = trainer(at)
    hello = read_corpus("hello world")
    assert tr.text == hello and tr.iteration == 0 and tr.vocab.chars == tuple(sorted(set(hello)))
    assert at.session_state["probe_text"] == hello[:80]
    assert at.session_state["seed_char"] in tr.vocab.chars
    assert len(at.get("plotly_chart")) == 3


def test_probe_text_with_unknown_chars_warns_and_drops_them(at):
    at.text_area(key="probe_text").set_value("the ~cat€ sat")
    at.run()
    assert not at.exception
    warning = messages(at.warning)
    assert "‘~’" in warning and "‘€’" in warning
    heat = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("hidden_heatmap"))
    spec = json.loads(heat.proto.spec)
    assert spec["layout"]["title"]["text"].startswith("Hidden state: 100 units (rows) × 11 characters")
    assert len(spec["data"][0]["x"]) == 11
    at.text_area(key="probe_text").set_value("€€")
    at.run()
    assert not at.exception and len(at.get("plotly_chart")) == 1  # only the loss chart
    assert "Type a few characters" in messages(at.info)


def test_probe_position_and_true_next_readout(at):
    train(at, 30)
    at.text_area(key="probe_text").set_value("the cat")
    at.run()
    at.slider(key="probe_pos").set_value(2)
    at.run()
    tr = trainer(at)
    probe = tr.probe("the cat")
    p = probe.probs[2, tr.vocab.index[" "]]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["p(‘␣ space’)"] == f"{p:.3f}"
    assert metrics["Loss here"] == f"{probe.loss[2]:.2f} nats"
    bars = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("prob_bars"))
    assert "after position 2" in json.loads(bars.proto.spec)["layout"]["title"]["text"]
    at.text_area(key="probe_text").set_value("th")  # shorter than the position: clamped, no error
    at.run()
    assert not at.exception and at.session_state["probe_pos"] == 0


def test_loss_unit_toggle(at):
    train(at, 10)
    at.radio(key="unit").set_value("bits")
    at.run()
    loss = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("loss_chart"))
    assert json.loads(loss.proto.spec)["layout"]["yaxis"]["title"]["text"] == "loss (bits per character)"


def test_samples_over_time_listed(at):
    at.number_input(key="hidden_size").set_value(8)
    at.button(key="reset").click()
    at.run()
    train(at, 500)
    at.segmented_control(key="look_inside").set_value("Samples over time")  # one view runs at a time
    at.run()
    shown = {m.value for m in at.markdown if str(m.value).startswith("**Iteration ")}
    assert shown == {"**Iteration 500**", "**Iteration 300**", "**Iteration 100**"}
    assert {c.value for c in at.code} == {s for _, s in trainer(at).samples}
    assert [it for it, _ in trainer(at).samples] == [100, 300, 500]


def test_heatmap_payload_stays_bounded_for_a_long_probe_and_many_units(at):
    from ui.panels.look_inside.hidden_state import MAX_HEATMAP_CELLS, heatmap_window
    at.number_input(key="hidden_size").set_value(512)
    at.button(key="reset").click()
    at.run()
    at.text_area(key="probe_text").set_value(trainer(at).text[:400])
    at.run()
    at.slider(key="probe_pos").set_value(200)
    at.run()
    assert not at.exception
    heat = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("hidden_heatmap"))
    lo, hi = heatmap_window(400, 512, 200)
    assert (hi - lo) * 512 <= MAX_HEATMAP_CELLS and lo <= 200 < hi
    assert len(json.loads(heat.proto.spec)["data"][0]["x"]) == hi - lo
    assert sum(len(c.proto.spec) for c in at.get("plotly_chart")) < 300_000


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_train_after_reset(at, cell):
    from rnn_core.cells import CELLS
    if cell not in CELLS:
        pytest.skip(f"{cell} is not in this engine yet")
    at.selectbox(key="cell").set_value(cell)
    at.number_input(key="hidden_size").set_value(16)
    at.run()
    assert "cell **RNN → " + cell.upper() + "**" in messages(at.warning)
    at.button(key="reset").click()
    at.run()
    train(at, 12)
    tr = trainer(at)
    assert tr.config.cell == cell and tr.iteration == 12 and len(at.get("plotly_chart")) == 3


def test_two_runs_train_in_lock_step_and_share_the_loss_chart(at):
    """The plumbing compare mode builds on: every run in session_of(ss).runs trains on each click."""
    ss = at.session_state
    sess = session_of(ss)
    small = replace(trainer(at).config, hidden_size=8)  # the page's settings but H
    sess.add(sess.start([RunSpec("prose", sess.active_run.text, asdict(small))])[0])
    train(at, 9)
    assert [r.trainer.iteration for r in session_of(at.session_state).runs] == [9, 9]
    loss = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("loss_chart"))
    names = [t.get("name") for t in json.loads(loss.proto.spec)["data"]]
    assert "RNN H=100" in names and "RNN H=8" in names
