"""The page's training presets, the streams box and the characters-per-second readout (AppTest).

Defaults are the FAST preset; min-char-rnn's exact settings are one switch (and a Reset) away; the run
caption names what runs; the streams box says its limits; chars/s = it/s x B x T; the compare preset
"one stream vs 32 streams"; the heatmap and probe at B=32, H=512; batch_size through the URL.
"""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assets.corpora import read_corpus
from rnn_core import TrainConfig, Trainer, char_label
from rnn_core.presets import FAST, MIN_CHAR_RNN, preset_fields
from tests.helpers_app import click, in_worker, messages, ok, session, train, trainer, unescape
from ui.panels.controls import chars_rate
from ui.panels.look_inside import VIEWS
from ui.session import share, state
from ui.session.session import session_of

TRAINING = ("batch_size", "optimizer", "learning_rate", "clip")

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test


def run_caption(at) -> str:
    [c] = [c for c in at.caption if str(c.value).startswith("**Text:**")]
    return unescape(str(c.value))


def metric(at, label: str):
    [m] = [m for m in at.metric if m.label == label]
    return m


def training_of(cfg: TrainConfig) -> dict:
    return {k: getattr(cfg, k) for k in TRAINING}


def test_a_first_visit_runs_the_fast_preset_and_says_so():
    at = session()
    cfg = trainer(at).config
    assert training_of(cfg) == preset_fields(FAST) and (cfg.cell, cfg.hidden_size, cfg.seq_length) == ("rnn", 100, 25)
    assert [at.number_input(key=k).value for k in ("batch_size", "learning_rate", "clip")] == [32, 0.05, 5.0]
    assert at.selectbox(key="optimizer").value == "adagrad"
    assert at.segmented_control(key="settings_preset").value == "fast"
    cap = run_caption(at)
    assert "**Streams:** 32 streams read the text in parallel, one update per 32 windows (800 characters)" in cap
    assert cap.endswith("**Settings:** fast preset")
    assert at.button(key="reset").label == "Reset"  # nothing pending


def test_the_min_char_rnn_preset_fills_the_boxes_applies_the_optimizer_now_and_streams_on_reset():
    at = session()
    tr = trainer(at)
    at.segmented_control(key="settings_preset").set_value("min-char-rnn")
    ok(at)
    assert [at.number_input(key=k).value for k in ("batch_size", "learning_rate", "clip")] == [1, 0.1, 5.0]
    assert trainer(at) is tr and (tr.config.learning_rate, tr.config.batch_size) == (0.1, 32)  # lr now, B later
    assert "streams **32 → 1**" in messages(at.warning) and at.button(key="reset").label == "Reset & apply"
    assert "1 stream** start when you press **Reset & apply**" in messages(at.info)
    assert run_caption(at).endswith("**Settings:** custom settings")  # the running model is neither preset yet
    click(at, "reset")
    assert training_of(trainer(at).config) == preset_fields(MIN_CHAR_RNN)
    cap = run_caption(at)
    assert "**Streams:** one stream reads the text, one update per window of 25 characters" in cap
    assert cap.endswith("**Settings:** min-char-rnn exactly")
    assert at.segmented_control(key="settings_preset").value == "min-char-rnn"
    # min-char-rnn exactly through the page: bit for bit the engine's TrainConfig() run (its exactness
    # against the per-timestep oracle is tested in test_engine_exact.py)
    train(at, 30)
    ref = Trainer(read_corpus("prose"), TrainConfig())
    ref.step(30)
    assert np.array_equal(in_worker(trainer(at)).model.flat, ref.model.flat) and trainer(at).smooth_loss == ref.smooth_loss
    # and back: the fast preset needs a Reset again
    at.segmented_control(key="settings_preset").set_value("fast")
    ok(at)
    assert "streams **1 → 32**" in messages(at.warning)
    click(at, "reset")
    assert training_of(trainer(at).config) == preset_fields(FAST)


def test_editing_a_box_makes_the_settings_custom_and_the_caption_says_so():
    at = session()
    at.number_input(key="learning_rate").set_value(0.02)
    ok(at)
    assert at.segmented_control(key="settings_preset").value is None
    assert "Custom: your own mix" in " ".join(str(c.value) for c in at.sidebar.caption)
    assert trainer(at).config.learning_rate == 0.02 and run_caption(at).endswith("**Settings:** custom settings")
    at.segmented_control(key="settings_preset").set_value("fast")
    ok(at)
    assert trainer(at).config.learning_rate == 0.05 and run_caption(at).endswith("**Settings:** fast preset")


def test_min_char_rnn_settings_on_a_gated_cell_are_not_called_exact():
    at = session()
    at.segmented_control(key="settings_preset").set_value("min-char-rnn")
    ok(at)
    at.selectbox(key="cell").set_value("lstm")
    ok(at)
    click(at, "reset")
    assert run_caption(at).endswith("**Settings:** min-char-rnn's training settings")


@pytest.mark.parametrize("seq, typed, shown, words", [
    (25, 500, 128, "Streams: at most 128; 500 was typed, so the box now says 128."),
    (25, 0, 1, "Streams: at least 1; 0 was typed, so the box now says 1."),
    (200, 50, 16, "Streams: at most 16 with windows of 200 characters, because streams × sequence length is at most "
                  "3,200 characters per iteration; 50 was typed, so the box now says 16."),
])
def test_the_streams_box_says_its_limits(seq, typed, shown, words):
    at = session()
    at.number_input(key="batch_size").set_value(1)
    ok(at)
    at.number_input(key="seq_length").set_value(seq)
    ok(at)
    at.number_input(key="batch_size").set_value(typed)
    ok(at)
    assert at.number_input(key="batch_size").value == shown and words in messages(at.warning)
    assert f"streams **32 → {shown}**" in messages(at.warning)  # applies on Reset, like the hidden size
    click(at, "reset")
    assert (trainer(at).config.batch_size, trainer(at).config.seq_length) == (shown, seq)


def test_the_sequence_length_box_keeps_streams_times_length_within_the_limit():
    at = session()  # 32 streams
    at.number_input(key="seq_length").set_value(200)
    ok(at)
    assert at.number_input(key="seq_length").value == 100
    assert ("Sequence length: at most 100 with 32 streams, because streams × sequence length is at most 3,200 "
            "characters per iteration; 200 was typed, so the box now says 100.") in messages(at.warning)


def test_a_text_too_short_for_the_streams_gets_fewer_with_a_notice(pool):
    ss = {"corpus": "prose"}
    session_of(ss, pool)
    state.init_state(ss)
    assert session_of(ss).trainer.config.batch_size == 32
    ss["corpus"] = "hello world"  # 96 characters: 3 windows of 26
    state.switch_corpus(ss)
    tr = session_of(ss).trainer
    assert tr.text == read_corpus("hello world") and tr.config.batch_size == 3 and ss["batch_size"] == 3
    [(kind, msg)] = session_of(ss).take_notices("settings")
    assert kind == "warning" and msg == ("Streams: “hello world” has 96 characters, too few for 32 streams of at "
                                         "least 26 characters each, so the box now says 3 and this run reads 3 streams.")
    assert in_worker(tr).config.batch_size == 3  # the fitted settings are what the worker was started with


def test_speed_reads_characters_per_second_and_characters_seen_counts_every_stream():
    at = session()
    train(at, 10)
    tr = trainer(at)
    ips = tr.iters_per_second
    assert ips > 0
    speed = metric(at, "Speed")
    assert speed.value == f"{ips:,.0f} it/s" and speed.proto.delta == f"{chars_rate(ips * 32 * 25)} chars/s"
    assert tr.chars_per_second == pytest.approx(ips * 800)
    seen = metric(at, "Characters seen")
    assert seen.value == "8,000" and seen.proto.delta == f"{8000 / 9374:.2f} epochs"  # 10 x 32 x 25 of 9,374
    assert (tr.chars_seen, tr.epochs) == (8000, 8000 / 9374)


def test_chars_rate_words():
    assert [chars_rate(x) for x in (930.4, 7_740, 77_400, 1_234_000)] == ["930", "7.7k", "77k", "1.2M"]


def test_the_streams_comparison_trains_min_char_rnn_and_fast_in_lock_step_named_in_the_legend():
    at = session()
    at.number_input(key="hidden_size").set_value(16)
    ok(at)
    click(at, "reset")
    click(at, "compare_streams")
    runs = session_of(at.session_state).runs
    a, b = (r.trainer.config for r in runs)
    assert training_of(a) == preset_fields(MIN_CHAR_RNN) and training_of(b) == preset_fields(FAST)
    assert replace(a, **preset_fields(FAST)) == b and a.hidden_size == 16  # nothing else differs
    assert runs[0].trainer.text == runs[1].trainer.text
    train(at, 7)
    assert [r.trainer.iteration for r in runs] == [7, 7]
    assert [r.trainer.chars_seen for r in runs] == [7 * 25, 7 * 800]
    loss = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("loss_chart"))
    names = [t.get("name") for t in json.loads(loss.proto.spec)["data"]]
    assert "RNN 1 stream (min-char-rnn)" in names and "RNN 32 streams (fast)" in names
    cards = " ".join(str(c.value) for c in at.caption)
    for r in runs:
        assert f"{chars_rate(r.trainer.iters_per_second * r.trainer.chars_per_iteration)} chars/s" in cards


def test_heatmap_and_probe_read_one_stream_from_the_zero_state_at_32_streams_and_512_units():
    at = session()
    at.number_input(key="hidden_size").set_value(512)
    ok(at)
    click(at, "reset")
    train(at, 2)
    tr = trainer(at)
    held = in_worker(tr)  # the weights and state as the run's worker holds them
    assert (tr.config.batch_size, tr.config.hidden_size, held.state.shape[0]) == (32, 512, 32)
    probe_text = at.session_state["probe_text"]
    heat = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("hidden_heatmap"))
    assert "512 units (rows)" in json.loads(heat.proto.spec)["layout"]["title"]["text"]
    # the same weights in a one-stream trainer, probed from the zero state: the page shows exactly that
    one = Trainer(tr.text, replace(tr.config, batch_size=1))
    one.model.flat[...] = held.model.flat
    p = one.probe(probe_text).probs[0, one.vocab.index[probe_text[1]]]
    assert metric(at, f"p(‘{char_label(probe_text[1])}’)").value == f"{p:.3f}"
    for title, _ in VIEWS:  # every look-inside view draws at this size
        at.segmented_control(key="look_inside").set_value(title)
        ok(at)


def test_batch_size_goes_through_the_link_both_ways():
    cfg = replace(TrainConfig(), **preset_fields(FAST))
    query = share.config_to_query("prose", replace(cfg, batch_size=8))
    assert query["batch_size"] == "8"
    corpus, back, warnings = share.config_from_query(query)
    assert (corpus, back, warnings) == ("prose", replace(cfg, batch_size=8), [])
    at = session({"corpus": "code", "batch_size": "8", "learning_rate": "0.05", "seq_length": "25"})
    assert trainer(at).config.batch_size == 8 and at.number_input(key="batch_size").value == 8
    assert at.query_params["batch_size"] == "8"
    assert run_caption(at).endswith("**Settings:** custom settings")  # 8 streams: neither preset


def test_a_link_with_streams_out_of_range_keeps_the_default_and_says_so():
    at = session({"corpus": "prose", "batch_size": "500"})
    assert trainer(at).config.batch_size == TrainConfig().batch_size
    assert "batch_size='500' was ignored" in messages(at.warning)
