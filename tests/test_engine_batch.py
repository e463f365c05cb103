"""B streams per iteration (TrainConfig.batch_size): checked against the naive per-stream reference.

rnn_core/reference/streams.py runs each stream through the per-time-step one-hot model and averages;
the engine does all streams in one set of matrix products. Also gradient checks at B > 1, the
bookkeeping (wrap, chars seen, hold-out), checkpoints, divergence, probe/sample/analysis, the CLI,
and the seed-loop port that the benchmarks measure against.
"""
import numpy as np
import pytest

from rnn_core import CheckpointError, DivergenceError, TextError, TrainConfig, Trainer
from rnn_core import limits
from rnn_core.analysis_model import gradient_flow, next_window, validation_loss
from rnn_core.checkpoint import to_arrays
from rnn_core.reference.seed_loop import SeedLoop
from rnn_core.reference.streams import NaiveStreams
from tests.helpers_engine import make_text, numeric_grad_check, params_copy
from tests.helpers_reliability import assert_same, snapshot

TEXT = make_text(1200, 30, seed=31)
CELLS = ("rnn", "lstm", "gru")


def pair(cell, B, T=10, H=12, lr=0.01, clip=5.0, text=TEXT, **cfg):
    tr = Trainer(text, TrainConfig(cell=cell, batch_size=B, seq_length=T, hidden_size=H, learning_rate=lr,
                                   clip=clip, sample_every=0, **cfg))
    ref = NaiveStreams(tr.text, cell, B, H, T, lr, clip, params_copy(tr.model))
    return tr, ref


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("B", [3, 8])
def test_batched_training_matches_the_per_stream_reference(cell, B):
    # 1200 chars / B streams: at B = 8 each stream has 150 chars and wraps every 14 iterations.
    tr, ref = pair(cell, B)
    engine = tr.step(40)
    naive = np.array([ref.train_step() for _ in range(40)])
    assert np.max(np.abs(engine - naive)) < 1e-9
    for k, v in ref.params().items():
        np.testing.assert_allclose(tr.model.params[k].reshape(v.shape), v, rtol=0, atol=1e-10, err_msg=k)
    assert tr.state.shape == (B, tr.model.state_size)
    np.testing.assert_allclose(tr.state, ref.flat_states(), rtol=0, atol=1e-10)
    assert tr.pointer == ref.p and tr.stream_length == len(tr.data) // B


def test_clipping_bites_on_the_averaged_gradient_as_in_the_reference():
    tr, ref = pair("rnn", 4, lr=0.05, clip=0.5)
    rng = np.random.default_rng(3)
    for k in tr.model.params:  # big weights: gradients well above the clip
        tr.model.params[k] = rng.standard_normal(tr.model.params[k].shape) * 0.5
    ref = NaiveStreams(tr.text, "rnn", 4, 12, 10, 0.05, 0.5, params_copy(tr.model))
    _, g, _ = tr.model.loss_and_grads(tr.data[:10], tr.data[1:11])
    assert max(np.abs(v).max() for v in g.values()) > 0.5
    engine = tr.step(10)
    naive = np.array([ref.train_step() for _ in range(10)])
    assert np.max(np.abs(engine - naive)) < 1e-9


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_at_several_streams_match_central_differences(cell):
    tr = Trainer(TEXT, TrainConfig(cell=cell, hidden_size=8, seq_length=6, batch_size=3))
    rng = np.random.default_rng(5)
    for k in tr.model.params:
        tr.model.params[k] = rng.standard_normal(tr.model.params[k].shape) * 0.3
    B, T = 3, 6
    starts = np.array([0, 400, 800]) + 7
    ids = tr.data[starts + np.arange(T + 1)[:, None]]          # (T+1, B)
    h0 = rng.uniform(-0.9, 0.9, (B, tr.model.state_size))     # a nonzero carried state per stream
    errors = numeric_grad_check(tr.model, ids[:-1], ids[1:], h0, n_samples=15, rng=rng)
    assert set(errors) == set(tr.model.params)
    for name, err in errors.items():
        assert err < 1e-6, f"{cell} {name}: relative error {err:.2e}"


@pytest.mark.parametrize("cell", CELLS)
def test_a_batch_is_the_mean_of_its_streams_run_alone(cell):
    """Streams never mix: loss and gradient of B streams = mean of B single-stream passes."""
    tr = Trainer(TEXT, TrainConfig(cell=cell, hidden_size=10, seq_length=8, batch_size=4))
    rng = np.random.default_rng(6)
    ids = tr.data[np.array([3, 250, 600, 900]) + np.arange(9)[:, None]]   # (9, 4)
    h0 = rng.uniform(-0.5, 0.5, (4, tr.model.state_size))
    loss, grads, state = tr.model.loss_and_grads(ids[:-1], ids[1:], h0)
    singles = [tr.model.loss_and_grads(ids[:-1, b], ids[1:, b], h0[b]) for b in range(4)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-13)
    for k in grads:
        np.testing.assert_allclose(grads[k], np.mean([s[1][k] for s in singles], axis=0), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(state, np.stack([s[2] for s in singles]), rtol=0, atol=1e-14)


def test_one_stream_as_a_column_is_the_plain_window():
    tr = Trainer(TEXT, TrainConfig(hidden_size=10, seq_length=8))
    a = tr.model.loss_and_grads(tr.data[:8], tr.data[1:9])
    b = tr.model.loss_and_grads(tr.data[:8, None], tr.data[1:9, None], np.zeros((1, 10)))
    assert a[0] == b[0] and all(np.array_equal(a[1][k], b[1][k]) for k in a[1])
    assert np.array_equal(a[2], b[2][0])


def test_streams_start_at_evenly_spaced_offsets_and_wrap_together():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=10, batch_size=4, sample_every=0))
    L = len(tr.data) // 4
    assert tr.stream_length == L == 300
    tr.step(1)
    assert tr.pointer == 10 and tr.chars_seen == 40 and tr.chars_per_iteration == 40
    n_to_wrap = (L - 11) // 10 + 1            # iterations until p + T + 1 >= L
    tr.step(n_to_wrap - 1)
    assert tr.pointer == 10 * n_to_wrap and tr.pointer + 11 >= L
    tr.step(1)
    assert tr.pointer == 10                   # wrapped to 0 and read one window
    assert tr.epochs == pytest.approx(tr.iteration * 40 / len(tr.data))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_checkpoint_resume_at_several_streams_is_bit_for_bit(cell, tmp_path):
    tr = Trainer(TEXT, TrainConfig(cell=cell, hidden_size=10, seq_length=8, batch_size=5, sample_every=20))
    tr.step(33)
    tr.save(tmp_path / "run.npz")
    back = Trainer.load(tmp_path / "run.npz")
    assert back.config.batch_size == 5 and back.state.shape == (5, tr.model.state_size)
    assert_same(snapshot(back), snapshot(tr))
    a, b = tr.step(25), back.step(25)
    assert np.array_equal(a, b) and np.array_equal(tr.model.flat, back.model.flat)
    assert np.array_equal(tr.state, back.state)


def test_a_checkpoint_whose_state_has_the_wrong_number_of_streams_is_refused(tmp_path):
    tr = Trainer(TEXT, TrainConfig(hidden_size=10, seq_length=8, batch_size=3))
    tr.step(2)
    arrays = to_arrays(tr)
    arrays["state"] = np.zeros((2, 10))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match="hidden state has shape"):
        Trainer.load(tmp_path / "bad.npz")


def test_a_checkpoint_with_one_flat_state_loads_as_one_stream(tmp_path):
    """Files saved before batches existed hold an (S,) state and no batch_size."""
    import json
    tr = Trainer(TEXT, TrainConfig(hidden_size=10, seq_length=8))
    tr.step(4)
    arrays = to_arrays(tr)
    cfg = json.loads(str(arrays["config"]))
    del cfg["batch_size"]
    arrays["config"], arrays["state"] = np.array(json.dumps(cfg)), tr.state[0].copy()
    np.savez(tmp_path / "old.npz", **arrays)
    back = Trainer.load(tmp_path / "old.npz")
    assert back.config.batch_size == 1 and np.array_equal(back.state, tr.state)


@pytest.mark.parametrize("bad", [0, -1, limits.MAX_BATCH + 1, 2.0, True, "8"])
def test_a_bad_batch_size_is_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="batch_size must be a whole number from 1 to"):
        TrainConfig(batch_size=bad).validate()


def test_too_many_characters_per_iteration_are_refused():
    with pytest.raises(ValueError, match="characters per iteration"):
        TrainConfig(batch_size=limits.MAX_BATCH, seq_length=200).validate()
    TrainConfig(batch_size=limits.MAX_BATCH, seq_length=limits.MAX_BATCH_CHARS // limits.MAX_BATCH).validate()


def test_a_text_too_short_for_the_streams_says_how_many_fit():
    with pytest.raises(TextError, match=r"too few for 8 streams.*at most 4 here"):
        Trainer("ab" * 50, TrainConfig(seq_length=24, batch_size=8))
    assert Trainer("ab" * 50, TrainConfig(seq_length=24, batch_size=4)).stream_length == 25


def test_divergence_at_several_streams_keeps_the_last_finite_state():
    tr = Trainer(TEXT, TrainConfig(hidden_size=10, seq_length=8, batch_size=4, optimizer="sgd",
                                   learning_rate=1e308, clip=None, sample_every=0))
    before = snapshot(tr)
    with pytest.raises(DivergenceError, match="iteration 1:"):
        tr.step(3)
    assert_same(snapshot(tr), before)


def test_hold_out_probe_sample_and_views_read_one_stream_at_several_streams():
    tr = Trainer(TEXT, TrainConfig(hidden_size=10, seq_length=8, batch_size=6, val_fraction=0.2, sample_every=10))
    assert len(tr.data) == 960 and tr.stream_length == 160     # streams cover the training part only
    tr.step(30)
    assert [i for i, _ in tr.samples] == [10, 20, 30] and all(len(s) == 201 for _, s in tr.samples)
    v = validation_loss(tr.model, tr.val_data, 8)
    assert 0 < v < np.log(tr.vocab.size) + 1
    probe = tr.probe(tr.text[:20])
    assert probe.hidden.shape == (20, 10) and probe.probs.shape == (20, tr.vocab.size)
    w = next_window(tr)
    assert w.start == tr.pointer and np.array_equal(w.state0, tr.state[0])
    g = gradient_flow(tr)
    assert g.norms.shape == (8,) and np.all(np.isfinite(g.norms))
    assert len(tr.sample("e", 50, seed=1)) == 50


def test_cli_trains_with_several_streams(tmp_path):
    from rnn_core.__main__ import main
    (tmp_path / "in.txt").write_text(TEXT, encoding="utf-8")
    out = tmp_path / "run.npz"
    assert main(["train", str(tmp_path / "in.txt"), "--iters", "12", "--batch-size", "4", "--hidden", "8",
                 "--out", str(out), "--quiet"]) == 0
    tr = Trainer.load(out)
    assert tr.config.batch_size == 4 and tr.iteration == 12 and tr.state.shape == (4, 8)
    assert main(["train", str(tmp_path / "in.txt"), "--batch-size", "0", "--out", str(out), "--quiet"]) == 2


def test_the_seed_loop_port_computes_what_the_engine_computes():
    """The speed baseline is min-char-rnn itself: at lr 0.01 it agrees with the engine to 1e-9."""
    text = make_text(700, 25, seed=32)                          # 700 chars, T = 25: wraps every 27 iterations
    tr = Trainer(text, TrainConfig(hidden_size=16, learning_rate=0.01, sample_every=0))
    seed = SeedLoop(text, hidden_size=16, learning_rate=0.01, params=params_copy(tr.model))
    engine = tr.step(60)
    port = np.array([seed.step(1) for _ in range(60)])
    assert np.max(np.abs(engine - port)) < 1e-9
    assert tr.smooth_loss == pytest.approx(seed.smooth_loss, abs=1e-9)
    np.testing.assert_allclose(tr.model.params["Whh"], seed.Whh, rtol=0, atol=1e-10)
    np.testing.assert_allclose(tr.state[0], seed.hprev.ravel(), rtol=0, atol=1e-10)


def test_presets_are_config_fields_and_min_char_rnn_is_the_default():
    from dataclasses import fields

    from rnn_core.presets import FAST, MIN_CHAR_RNN, PRESETS, preset_fields
    default = TrainConfig()
    assert all(getattr(default, k) == v for k, v in preset_fields(MIN_CHAR_RNN).items())
    names = {f.name for f in fields(TrainConfig)}
    for preset in PRESETS.values():
        assert isinstance(preset["description"], str) and preset["description"]
        assert set(preset_fields(preset)) <= names
        TrainConfig(**preset_fields(preset)).validate()
    assert FAST["batch_size"] > 1 and preset_fields(FAST) != preset_fields(MIN_CHAR_RNN)
