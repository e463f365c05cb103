"""Cells and compare mode on the page, under AppTest, with small models.

The cell selector and Reset, the heatmap's choice of h / c / gates, the compare presets, lock-step
training, the overlaid loss curves, one sample per run, the `active_run` radio, removing runs and
leaving compare mode; plus the pure naming and lock-step logic without Streamlit.
"""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import TrainConfig, Trainer
from rnn_core.presets import FAST
from tests.helpers_app import ok, session, small, train
from tests.helpers_workers import wait_until
from ui.session import compare, using
from ui.session.names import run_names
from ui.session.session import RunSpec, session_of

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test

H = 8


@pytest.fixture
def at() -> AppTest:
    """The page with small settings in the sidebar (applied by a Reset)."""
    app = session()
    small(app, hidden=H, seq=10)
    assert session_of(app.session_state).trainer.config.hidden_size == H
    return app


def runs(at: AppTest) -> list[Run]:
    return session_of(at.session_state).runs


def chart(at: AppTest, key: str) -> dict:
    [c] = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]
    return json.loads(c.proto.spec)


def heat(at: AppTest) -> tuple[str, float, float, dict]:
    spec = chart(at, "hidden_heatmap")
    trace = spec["data"][0]
    return spec["layout"]["title"]["text"], trace["zmin"], trace["zmax"], trace


def n_points(arr) -> int:
    """Length of a Plotly array: a list, or a typed array {"dtype", "bdata"} (base64)."""
    if isinstance(arr, dict):
        return len(np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]))
    return len(arr)


def effective_color_at_zero(trace: dict) -> str:
    scale = trace["colorscale"]
    return scale[-1][1] if trace.get("reversescale") else scale[0][1]


def start_cells(at: AppTest) -> None:
    at.button(key="compare_cells").click()
    ok(at)


# ---- the cell selector ---------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_cell_selector_needs_reset_then_trains_that_cell(at, cell):
    tr = session_of(at.session_state).trainer
    at.selectbox(key="cell").set_value(cell)
    ok(at)
    assert session_of(at.session_state).trainer is tr and tr.config.cell == "rnn"  # nothing happens before Reset
    assert f"cell **RNN → {cell.upper()}**" in "\n".join(w.value for w in at.warning)
    assert any("Reset & apply" in c.value for c in at.caption)  # the sidebar says so too
    assert at.button(key="reset").label == "Reset & apply"
    at.button(key="reset").click()
    ok(at)
    tr = session_of(at.session_state).trainer
    assert tr.config.cell == cell and tr.config.hidden_size == H and tr.iteration == 0
    train(at, 7)
    assert tr.iteration == 7 and len(tr.history) == 7
    assert {m.label: m.value for m in at.metric}["Iteration"] == "7"
    # the rest of the page works for the gated cell: heatmap, bars, generate, checkpoint round trip
    assert {"loss_chart", "hidden_heatmap", "prob_bars"} <= {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    at.button(key="generate").click()
    ok(at)
    assert len(session_of(at.session_state).sample) == at.session_state["sample_length"]
    assert using.checkpoint_filename(session_of(at.session_state).active_run).endswith(f"-{cell}-it7.npz")
    at.file_uploader(key="checkpoint_upload").set_value(("run.npz", using.checkpoint_bytes(session_of(at.session_state), tr), "application/octet-stream"))
    ok(at)
    back = session_of(at.session_state).trainer
    assert back is not tr and back.config.cell == cell and back.iteration == 7


def test_heatmap_choice_for_lstm_cell_state_and_gates(at):
    at.selectbox(key="cell").set_value("lstm")
    at.button(key="reset").click()
    ok(at)
    train(at, 30)
    radio = at.radio(key="heatmap_view")
    assert radio.options[:3] == ["hidden state h", "cell state c", "input gate i"] and radio.value == "hidden"
    title, lo, hi, trace = heat(at)
    assert title.startswith("Hidden state:") and (lo, hi) == (-1.0, 1.0)

    at.radio(key="heatmap_view").set_value("cell")
    ok(at)
    title, lo, hi, trace = heat(at)
    probe = session_of(at.session_state).trainer.probe(at.session_state["probe_text"])
    c = probe.extras["cell"]
    assert title.startswith("Cell state c:") and lo == -hi and hi >= 1.0
    assert hi >= max(1.0, float(np.percentile(abs(c), 95)))  # scaled (not clipped to ±1): the top 5% saturate
    assert any("not squashed" in cap.value for cap in at.caption)

    at.radio(key="heatmap_view").set_value("forget gate")
    ok(at)
    title, lo, hi, trace = heat(at)
    assert title.startswith("Forget gate f:") and (lo, hi) == (0.0, 1.0)
    assert effective_color_at_zero(trace).lower() == "#440154"  # viridis: dark = closed
    z_rows = len(trace["z"]) if isinstance(trace["z"], list) else None
    assert z_rows in (None, H)


def test_heatmap_choice_for_gru_and_none_for_rnn(at):
    assert not [r for r in at.radio if r.key == "heatmap_view"]  # the RNN has only h
    at.selectbox(key="cell").set_value("gru")
    at.button(key="reset").click()
    ok(at)
    assert at.radio(key="heatmap_view").options == ["hidden state h", "update gate z", "reset gate r", "candidate n"]
    at.radio(key="heatmap_view").set_value("candidate")
    ok(at)
    title, lo, hi, _ = heat(at)
    assert title.startswith("Candidate n:") and (lo, hi) == (-1.0, 1.0)


# ---- compare mode --------------------------------------------------------------------------
def test_cells_preset_trains_three_runs_in_lock_step_with_named_curves_and_samples(at):
    start_cells(at)
    rs = runs(at)
    assert [r.trainer.config.cell for r in rs] == ["rnn", "lstm", "gru"]
    assert {r.trainer.config.hidden_size for r in rs} == {H} and {r.trainer.config.seed for r in rs} == {0}
    assert len({r.trainer.text for r in rs}) == 1 and [r.trainer.iteration for r in rs] == [0, 0, 0]
    train(at, 12)
    train(at, 5)
    assert [r.trainer.iteration for r in runs(at)] == [17, 17, 17]
    metrics = [m.value for m in at.metric if m.label == "Iteration"]
    assert metrics == ["17", "17", "17"]  # one readout card per run

    data = chart(at, "loss_chart")["data"]
    smooth = [t["name"] for t in data if t.get("legendgroup") and not t["name"].endswith("(raw)")]
    assert sorted(smooth) == sorted(["RNN H=8", "LSTM H=8", "GRU H=8"])
    ranks = {t["name"]: t.get("legendrank") for t in data if t["name"] in smooth}
    assert ranks["RNN H=8"] < ranks["LSTM H=8"] < ranks["GRU H=8"]  # legend in the runs' order

    at.button(key="generate").click()
    ok(at)
    by_run = session_of(at.session_state).samples_by_run
    assert set(by_run) == {r.run_id for r in runs(at)}
    length = at.session_state["sample_length"]
    assert all(len(text) == length for _, text in by_run.values())
    assert session_of(at.session_state).sample == by_run[runs(at)[0].run_id][1]  # the ACTIVE run's sample
    boxes = [c.value for c in at.code]
    assert all(any(seed + text == box for box in boxes) for seed, text in by_run.values())  # side by side


def test_active_run_switches_the_heatmap_the_sidebar_and_the_sample(at):
    start_cells(at)
    train(at, 5)
    at.button(key="generate").click()
    ok(at)
    assert heat(at)[0].startswith("RNN H=8 · Hidden state")
    at.radio(key="active_run").set_value(1)
    ok(at)
    ss = at.session_state
    assert session_of(ss).active == 1 and session_of(ss).trainer is runs(at)[1].trainer and ss["cell"] == "lstm"
    assert heat(at)[0].startswith("LSTM H=8 · Hidden state") and at.radio(key="heatmap_view") is not None
    assert not at.warning  # the sidebar shows the LSTM's settings: no pending change
    assert session_of(ss).sample == session_of(ss).samples_by_run[runs(at)[1].run_id][1]
    at.radio(key="heatmap_view").set_value("output gate")
    ok(at)
    assert heat(at)[0].startswith("LSTM H=8 · Output gate o") and heat(at)[1:3] == (0.0, 1.0)
    at.radio(key="active_run").set_value(2)  # the GRU has no output gate: back to h
    ok(at)
    assert heat(at)[0].startswith("GRU H=8 · Hidden state") and at.session_state["heatmap_view"] == "hidden"


def test_remove_runs_and_leave_compare_mode(at):
    start_cells(at)
    train(at, 4)
    at.radio(key="active_run").set_value(1)
    ok(at)
    at.button(key="compare_remove").click()  # removes the shown run, the LSTM
    ok(at)
    assert [r.trainer.config.cell for r in runs(at)] == ["rnn", "gru"]
    assert session_of(at.session_state).active == 0 and session_of(at.session_state).trainer is runs(at)[0].trainer
    train(at, 3)
    assert [r.trainer.iteration for r in runs(at)] == [7, 7]
    at.radio(key="active_run").set_value(1)
    ok(at)
    gru = session_of(at.session_state).trainer
    at.button(key="compare_leave").click()
    ok(at)
    assert len(runs(at)) == 1 and runs(at)[0].trainer is gru and gru.iteration == 7
    names = [t["name"] for t in chart(at, "loss_chart")["data"]]
    assert "training loss" in names and not any(n.startswith("GRU") for n in names)
    assert not [r for r in at.radio if r.key == "active_run"]


def test_two_learning_rates_preset_differs_only_in_lr(at):
    at.number_input(key="compare_lr2").set_value(0.02)
    at.button(key="compare_lr").click()
    ok(at)
    a, b = (r.trainer.config for r in runs(at))
    assert (a.learning_rate, b.learning_rate) == (FAST["learning_rate"], 0.02)  # the sidebar's: the page's default
    assert {k: v for k, v in vars(a).items() if k != "learning_rate"} == \
           {k: v for k, v in vars(b).items() if k != "learning_rate"}
    train(at, 6)
    names = [t["name"] for t in chart(at, "loss_chart")["data"]]
    assert f"RNN lr={FAST['learning_rate']:g}" in names and "RNN lr=0.02" in names


def test_add_a_run_catches_up_and_reset_restarts_all(at):
    train(at, 25)
    at.selectbox(key="cell").set_value("gru")
    ok(at)
    at.button(key="compare_add").click()
    ok(at)
    rs = runs(at)
    assert [r.trainer.config.cell for r in rs] == ["rnn", "gru"] and [r.trainer.iteration for r in rs] == [25, 25]
    assert session_of(at.session_state).active == 1 and not at.warning  # the new run is shown; no pending change
    train(at, 5)
    assert [r.trainer.iteration for r in runs(at)] == [30, 30]
    at.button(key="reset").click()
    ok(at)
    assert [r.trainer.iteration for r in runs(at)] == [0, 0]
    assert [r.trainer.config.cell for r in runs(at)] == ["rnn", "gru"]


def test_play_ticks_every_run_by_the_same_batch(at):
    start_cells(at)
    at.button(key="play").click()
    ok(at)
    group = session_of(at.session_state).group
    assert wait_until(lambda: group.read()[0].iteration > 0)
    ok(at)  # a redraw: the cards read one copy of the mirrors, taken between two chunks
    first = [r.trainer.iteration for r in runs(at)]
    assert wait_until(lambda: group.read()[0].iteration > first[0])
    ok(at)
    second = [r.trainer.iteration for r in runs(at)]
    assert len(set(first)) == 1 and len(set(second)) == 1 and second[0] > first[0] > 0
    at.button(key="play").click()
    ok(at)


def test_a_diverging_run_pauses_play_is_named_and_the_others_go_on(at):
    at.selectbox(key="optimizer").set_value("sgd")
    at.number_input(key="clip").set_value(0.0)
    ok(at)
    at.number_input(key="compare_lr2").set_value(100.0)
    at.button(key="compare_lr").click()
    ok(at)
    at.button(key="play").click()
    ok(at)
    assert wait_until(lambda: not session_of(at.session_state).playing)
    ok(at)
    rs = runs(at)
    assert not session_of(at.session_state).playing
    assert rs[0].error is None and rs[1].error.startswith("Training diverged")
    assert session_of(at.session_state).run_errors()[0].startswith("RNN lr=100: Training diverged")
    assert "RNN lr=100" in "\n".join(e.value for e in at.error)
    healthy = rs[0].trainer.iteration
    train(at, 10)  # the healthy run trains on; a dead one stays where it stopped
    assert rs[0].trainer.iteration == healthy + 10 and rs[0].error is None


def test_compare_payload_does_not_grow_with_runs_or_history(at):
    """Three runs at H=100 with a million points each and a 400-character probe: under 300 KB."""
    from assets.corpora import read_corpus
    at.number_input(key="hidden_size").set_value(100)
    ok(at)
    start_cells(at)
    train(at, 3)
    at.text_area(key="probe_text").set_value(read_corpus("prose")[:400])
    ok(at)
    rng = np.random.default_rng(0)
    group = session_of(at.session_state).group
    for run in runs(at):
        t, n = group.mirrors[run.run_id], 1_000_000   # what the page reads of the run (its worker is not asked)
        t.history.extend(np.arange(4, 4 + n), 60 + 10 * rng.standard_normal(n), np.linspace(t.smooth_loss, 40, n))
        t.iteration += n
    ok(at)
    data = chart(at, "loss_chart")["data"]
    per_kind = {kind: sum(n_points(t["x"]) for t in data if t.get("legendgroup") and t["name"].endswith("(raw)") == raw)
                for kind, raw in (("raw", True), ("smooth", False))}
    assert all(n <= 1500 for n in per_kind.values()), per_kind  # all runs together, as one run alone
    total = sum(len(c.proto.spec) for c in at.get("plotly_chart"))
    assert total < 300_000, total


def test_heatmap_values_on_grid_keep_colour_and_hover():
    from ui.panels.look_inside.hidden_state import on_grid
    x = np.array([[0.99999994, -0.99999994, 0.123456, -12.3456]])
    g = on_grid(x)
    assert np.all(np.abs(g - x) <= 0.5 / 1024) and np.all(g * 1024 == np.round(g * 1024))


# ---- the logic, without Streamlit ----------------------------------------------------------
def test_run_names_tell_runs_apart():
    base = TrainConfig(hidden_size=100)
    assert run_names([base]) == ["RNN H=100"]
    assert run_names(compare.preset_configs(base, "cells")) == ["RNN H=100", "LSTM H=100", "GRU H=100"]
    assert run_names(compare.preset_configs(base, "lr", 0.01)) == ["RNN lr=0.1", "RNN lr=0.01"]
    assert run_names([base, TrainConfig(hidden_size=8)]) == ["RNN H=100", "RNN H=8"]
    assert run_names([base, base]) == ["RNN H=100", "RNN H=100 #2"]
    assert run_names([base, TrainConfig(cell="gru", hidden_size=100, seq_length=50)]) == \
        ["RNN T=25", "GRU T=50"]
    with pytest.raises(ValueError, match="different second rate"):
        compare.preset_configs(base, "lr", 0.1)


def test_group_keeps_healthy_runs_level_when_one_diverges(pool):
    """Each run in its own worker: the one that diverges keeps its error, the others end the chunk level."""
    text = "abcdefghij" * 30
    sess = session_of({}, pool)
    configs = [dict(hidden_size=4, seq_length=8),
               dict(hidden_size=4, seq_length=8, optimizer="sgd", learning_rate=1e6, clip=None),
               dict(hidden_size=4, seq_length=8, seed=1)]
    sess.install(sess.start([RunSpec("t", text, c) for c in configs]))
    out = sess.train(50)
    good, bad, last = sess.runs
    assert out.error and bad.error and not good.error and not last.error
    assert good.trainer.iteration == last.trainer.iteration > bad.trainer.iteration
    [message] = sess.run_errors()
    assert message.startswith("RNN lr=1e+06") and ": Training diverged" in message
    assert message.endswith("The other runs are unaffected.")


def test_training_waits_while_an_older_script_run_holds_the_lock(pool):
    """Streamlit's fast reruns can start a new script run while an older one still waits for its click."""
    import threading
    text = "abcdefghij" * 30
    ss = {}
    sess = session_of(ss, pool)
    sess.install(sess.start([RunSpec("t", text, dict(hidden_size=4, seq_length=8)),
                             RunSpec("t", text, dict(cell="gru", hidden_size=4, seq_length=8))]))
    lock = sess.lock
    assert lock is session_of(ss).lock
    with lock:  # the "old run", mid-click
        newer = threading.Thread(target=sess.train, args=(5,))
        newer.start()
        newer.join(timeout=0.2)
        assert newer.is_alive() and [r.trainer.iteration for r in session_of(ss).runs] == [0, 0]
    newer.join()
    assert [r.trainer.iteration for r in session_of(ss).runs] == [5, 5]
