"""The insight views in the page (AppTest): each one shows the numbers rnn_core.analysis computes.

A segmented control (key "look_inside") picks the view; only the chosen one runs.
"""
from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import analysis as A
from rnn_core import char_label
from tests.helpers_app import in_worker, ok, session, train, trainer
from ui.session.session import session_of
from ui.session.widgets import HOLD_OUT_FRACTION
from ui.panels.look_inside import VIEWS  # the registry: the single list of views
from ui.panels.look_inside.neuron_explorer import pick_unit_from_ranking
from ui.session.validation import validation_plan

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test

TITLES = ["Hidden state & next character", "Neuron explorer", "Surprise", "Gradient flow", "Microscope: one step",
         "Samples over time"]


@pytest.fixture
def at() -> AppTest:
    return session()


def show(at: AppTest, view: str) -> None:
    at.segmented_control(key="look_inside").set_value(view)
    ok(at)


def charts(at: AppTest) -> dict[str, dict]:
    return {c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def htmls(at: AppTest) -> list[str]:
    """The views' HTML strips (not the page's one <style> element)."""
    return [h.proto.body for h in at.get("html") if not h.proto.body.lstrip().startswith("<style>")]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def values(trace: dict, axis: str) -> np.ndarray:
    """A trace's x or y as numbers, whether Plotly sent a list or a typed array (base64 'bdata')."""
    v = trace[axis]
    if isinstance(v, dict) and "bdata" in v:
        import base64
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
    return np.asarray(v, dtype=float)


# --- the view selector ----------------------------------------------------------------------------

def test_every_view_is_offered_and_only_the_chosen_one_runs(at):
    assert [t for t, _ in VIEWS] == TITLES
    control = at.segmented_control(key="look_inside")
    assert control.options == TITLES and control.value == TITLES[0]
    assert set(charts(at)) == {"loss_chart", "hidden_heatmap", "prob_bars"}
    show(at, "Gradient flow")
    assert set(charts(at)) == {"loss_chart", "grad_flow", "clipped_share"}


# --- neuron explorer ------------------------------------------------------------------------------

def test_neuron_explorer_ranks_units_and_the_selector_changes_the_strip(at):
    train(at, 200)
    show(at, "Neuron explorer")
    t = trainer(at)
    pr = t.probe(at.session_state["probe_text"])
    ranking = A.rank_units(pr.hidden, A.text_features(pr.text))
    bars = charts(at)["unit_ranking"]["data"][0]
    assert list(values(bars, "customdata").astype(int)) == [u for _, u, _ in ranking]
    assert np.allclose(values(bars, "x"), [r for _, _, r in ranking], atol=1e-6)
    assert at.session_state["neuron"] == ranking[0][1]  # starts on the best-tracking unit
    box = at.number_input(key="neuron")
    assert box.max == t.config.hidden_size - 1

    for unit in (5, 17):
        at.number_input(key="neuron").set_value(unit)
        ok(at)
        strip = htmls(at)[0]
        titles = re.findall(r'title="([^"]*)"', strip)
        assert len(titles) == len(pr.text)
        shown = [float(s.rsplit("= ", 1)[1]) for s in titles]
        assert np.allclose(shown, pr.hidden[:, unit], atol=5e-4)
        assert all(f"unit {unit} = " in s for s in titles)
        assert f"Correlation of unit {unit} with each feature" in " ".join(str(c.value) for c in at.caption)


def test_clicking_a_ranking_bar_selects_its_unit():
    ss = {"neuron": 3, "unit_ranking": {"selection": {"points": [{"customdata": 42, "y": "uppercase · unit 42"}]}}}
    pick_unit_from_ranking(ss)
    assert ss["neuron"] == 42
    ss["unit_ranking"] = {"selection": {"points": []}}  # a click that cleared the selection
    pick_unit_from_ranking(ss)
    assert ss["neuron"] == 42
    del ss["unit_ranking"]
    pick_unit_from_ranking(ss)
    assert ss["neuron"] == 42


def test_neuron_selector_is_clamped_after_a_reset_to_fewer_units(at):
    show(at, "Neuron explorer")
    at.number_input(key="neuron").set_value(90)
    ok(at)
    at.number_input(key="hidden_size").set_value(8)
    at.button(key="reset").click()
    ok(at)
    assert 0 <= at.session_state["neuron"] < 8 and at.number_input(key="neuron").max == 7


def test_lstm_shows_the_cell_state_strip_too(at):
    from rnn_core.cells import CELLS
    if "lstm" not in CELLS:
        pytest.skip("no LSTM in this engine")
    at.selectbox(key="cell").set_value("lstm")
    at.number_input(key="hidden_size").set_value(16)
    at.button(key="reset").click()
    ok(at)
    train(at, 30)
    show(at, "Neuron explorer")
    at.number_input(key="neuron").set_value(4)
    ok(at)
    pr = trainer(at).probe(at.session_state["probe_text"])
    strips = htmls(at)
    assert len(strips) == 2
    cell = [float(s.rsplit("= ", 1)[1]) for s in re.findall(r'title="([^"]*)"', strips[1])]
    assert np.allclose(cell, pr.extras["cell"][:, 4], atol=5e-4)
    assert any("LSTM cell state c of unit 4" in str(m.value) for m in at.markdown)


# --- surprise strip -------------------------------------------------------------------------------

def test_surprise_strip_shows_each_loss_and_the_top_guesses(at):
    train(at, 150)
    at.text_area(key="probe_text").set_value("the cat sat")
    ok(at)
    show(at, "Surprise")
    t = trainer(at)
    pr = t.probe("the cat sat")
    loss, guesses = A.surprise(pr, t.vocab.chars)
    strip = html.unescape(htmls(at)[0])
    titles = re.findall(r'title="([^"]*)"', htmls(at)[0])
    assert len(titles) == len("the cat sat")
    first_guess = f"guesses: {char_label(guesses[0][0][0])} {guesses[0][0][1]:.2f}"
    assert first_guess in html.unescape(titles[1]) and f"loss {loss[0]:.2f} nats" in html.unescape(titles[1])
    assert "Most surprising" in " ".join(htmls(at))
    assert metrics(at)["Mean surprise"] == f"{loss.mean() / math.log(2):.2f} bits/char"
    assert metrics(at)["Characters better than uniform"] == f"{np.mean(loss < math.log(t.vocab.size)):.0%}"
    assert "s" in strip


# --- baselines and held-out loss on the loss chart ------------------------------------------------

def test_loss_chart_draws_the_counting_baselines(at):
    t = in_worker(trainer(at))   # the run's data, read back from its worker
    lines = {d["name"]: d for d in charts(at)["loss_chart"]["data"]}
    want = A.ngram_entropies(t.data, t.vocab.size)
    assert set(want) == {"unigram", "bigram", "trigram"}
    T = t.config.seq_length
    for name, nats_per_char in want.items():
        assert np.allclose(values(lines[name], "y"), nats_per_char * T, rtol=1e-6)  # nats per window
    assert "held-out" not in lines
    at.radio(key="unit").set_value("bits")
    ok(at)
    lines = {d["name"]: d for d in charts(at)["loss_chart"]["data"]}
    assert np.allclose(values(lines["bigram"], "y"), want["bigram"] / math.log(2), rtol=1e-6)


def test_hold_out_adds_a_held_out_series_measured_every_k_iterations(at):
    at.checkbox(key="hold_out").set_value(True)
    ok(at)
    assert "validation hold-out **off → on**" in " ".join(str(w.value) for w in at.warning)
    at.button(key="reset").click()
    ok(at)
    t = in_worker(trainer(at))   # a local copy that replays the worker's run, to compute what the page should show
    assert t.config.val_fraction == HOLD_OUT_FRACTION
    assert t.val_data.size == int(len(t.text) * HOLD_OUT_FRACTION) and len(t.data) + t.val_data.size == len(t.text)
    chars, every = validation_plan(t)
    assert chars == t.val_data.size - 1 and every == 200  # the whole held-out part of the prose is short
    for n in (every + 20, every // 2, every):
        train(at, n)
    # The worker measures at the end of a chunk of training, as soon as `every` iterations have passed since
    # its last point (the first chunk gives the first point), so the points are where its chunks ended.
    held = {d["name"]: d for d in charts(at)["loss_chart"]["data"]}["held-out"]
    its = [int(i) for i in values(held, "x")]
    assert 2 <= len(its) and its[0] < every and all(b - a >= every for a, b in zip(its, its[1:]))
    assert trainer(at).iteration - its[-1] < every                   # nothing due was left out
    expected = []
    for it in its:                                                    # replay the run up to each point
        t.step(it - t.iteration)
        expected.append(A.validation_loss(t.model, t.val_data, t.config.seq_length, max_chars=chars))
    assert np.allclose(values(held, "y"), [v * t.config.seq_length for v in expected], rtol=1e-6)
    ok(at)  # a rerun without training measures nothing new
    assert session_of(at.session_state).validation[session_of(at.session_state).active_run.run_id]["its"] == its
    at.checkbox(key="hold_out").set_value(False)
    at.button(key="reset").click()
    ok(at)
    assert in_worker(trainer(at)).val_data.size == 0 and "held-out" not in {d["name"] for d in charts(at)["loss_chart"]["data"]}
    assert session_of(at.session_state).validation == {}  # the old run's series is forgotten


# --- gradient flow --------------------------------------------------------------------------------

def test_validation_plan_keeps_the_cost_a_small_share_of_training():
    from assets.corpora import read_corpus
    from rnn_core import TrainConfig, Trainer
    text = read_corpus("prose") * 8
    small = Trainer(text, TrainConfig(hidden_size=100, val_fraction=0.1))
    big = Trainer(text, TrainConfig(cell="rnn", hidden_size=512, val_fraction=0.1))
    assert validation_plan(small) == (1946, 300)      # 4e7 / 20,556 parameters; 1946 / (0.3 * 25) -> 300
    assert validation_plan(big) == (500, 100)         # the floor: fewer chars, as often as allowed
    short = Trainer(text, TrainConfig(hidden_size=100, seq_length=5, val_fraction=0.1))
    assert validation_plan(short)[1] == 1300          # cheap iterations: more of them between two points


def test_gradient_flow_shows_one_bar_per_step_and_the_clipped_share(at):
    train(at, 50)
    show(at, "Gradient flow")
    t = in_worker(trainer(at))
    g = A.gradient_flow(t)
    spec = charts(at)
    bars = spec["grad_flow"]["data"][0]
    assert len(values(bars, "y")) == t.config.seq_length == 25
    assert np.allclose(values(bars, "y"), g.norms, rtol=1e-6)
    assert spec["grad_flow"]["layout"]["xaxis"]["ticktext"][0] == g.chars[0].replace(" ", "␣")
    clip = spec["clipped_share"]["data"][0]
    assert clip["x"] == list(g.clipped_share)
    assert np.allclose(values(clip, "y"), [100 * s for s in g.clipped_share.values()], atol=1e-4)
    assert metrics(at)["Window loss"] == f"{g.loss:.2f} nats"
    assert trainer(at).iteration == 50 and in_worker(trainer(at)).iteration == 50  # looking changes nothing


# --- microscope -----------------------------------------------------------------------------------

def test_microscope_shows_p_target_before_and_after_one_step(at):
    train(at, 40)
    show(at, "Microscope: one step")
    at.slider(key="micro_pos").set_value(3)
    ok(at)
    t = in_worker(trainer(at))
    params = t.model.flat.copy()
    m = A.microscope(t, 3)
    shown = metrics(at)
    assert shown["p(target) before"] == f"{m['p_before']:.4f}"
    assert shown["p(target) after one step"] == f"{m['p_after']:.4f}"
    assert shown["Input → target"] == f"‘{char_label(m['input_char'])}’ → ‘{char_label(m['target_char'])}’"
    fig = charts(at)["microscope"]
    assert f"{m['p_before']:.4f} → {m['p_after']:.4f}" in fig["layout"]["title"]["text"]
    assert len(fig["data"]) == 6  # one-hot, h, h_prev, scores, probs, dL/dy
    assert "outside the recurrent product" in " ".join(str(c.value) for c in at.caption)
    assert "tanh(Wxh·x + Whh·(h_prev + bh))" in " ".join(str(c.value) for c in at.caption)
    at.radio(key="micro_update").set_value("trainer")
    ok(at)
    m2 = A.microscope(t, 3, update="trainer")
    assert metrics(at)["p(target) after one step"] == f"{m2['p_after']:.4f}"
    assert np.array_equal(in_worker(trainer(at)).model.flat, params) and trainer(at).iteration == 40


def test_microscope_position_is_clamped_after_a_shorter_window(at):
    show(at, "Microscope: one step")
    at.slider(key="micro_pos").set_value(20)
    ok(at)
    at.number_input(key="seq_length").set_value(10)
    at.button(key="reset").click()
    ok(at)
    assert at.session_state["micro_pos"] == 0 and at.slider(key="micro_pos").max == 9


# --- samples over time ----------------------------------------------------------------------------

def test_sample_replay_shows_the_sample_of_the_chosen_iteration(at):
    at.number_input(key="hidden_size").set_value(8)
    at.button(key="reset").click()
    ok(at)
    train(at, 500)
    show(at, "Samples over time")
    samples = dict(trainer(at).samples)
    replay = at.select_slider(key="sample_replay")
    assert [int(o) for o in replay.options] == [100, 300, 500] and replay.value == 500
    assert "sample at iteration 500" in htmls(at)[0]
    at.select_slider(key="sample_replay").set_value(100)
    ok(at)
    body = htmls(at)[0]
    assert "sample at iteration 100" in body
    assert body.endswith("<br>".join(html.escape(line) for line in samples[100].split("\n")) + "</div>")
    assert {c.value for c in at.code} == set(samples.values())  # the grid of all samples stays
    train(at, 500)  # a new sample (iteration 1000) does not move a replay the person slid back
    assert at.select_slider(key="sample_replay").value == 100
    at.select_slider(key="sample_replay").set_value(1000)
    ok(at)
    train(at, 1000)  # ...but one left on the newest follows it
    assert at.select_slider(key="sample_replay").value == 2000


def test_loss_chart_hover_shows_the_samples(at):
    at.number_input(key="hidden_size").set_value(8)
    at.button(key="reset").click()
    ok(at)
    train(at, 300)
    marks = {d["name"]: d for d in charts(at)["loss_chart"]["data"]}["samples"]
    assert list(values(marks, "x").astype(int)) == [100, 300]
    first = trainer(at).samples[0][1]
    assert html.escape(first[:20].split("\n")[0]) in marks["customdata"][0]
