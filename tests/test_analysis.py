"""rnn_core.analysis: values checked against hand-built cases and naive per-step references."""
from __future__ import annotations

import math
import warnings
from collections import Counter

import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer
from rnn_core import analysis as A
from rnn_core.cells import CELLS
from rnn_core.model import softmax

TEXT = 'She said "look (at [this]) now".\nThen: "fine," he said.\n' * 8
ALL_CELLS = [c for c in ("rnn", "lstm", "gru") if c in CELLS]


def _trainer(cell="rnn", iters=40, **cfg) -> Trainer:
    cfg = {"hidden_size": 10, "seq_length": 12, **cfg}
    tr = Trainer(TEXT, TrainConfig(cell=cell, **cfg))
    tr.step(iters)
    return tr


def _snapshot(tr: Trainer) -> dict:
    return {
        "flat": tr.model.flat.copy(), "grad": tr.model.flat_grad.copy(), "state": tr.state.copy(),
        "counters": (tr.iteration, tr.pointer, tr.optimizer.t, tr.smooth_loss, len(tr.history)),
        "optim": {k: v.copy() for k, v in tr.optimizer.state.items()},
    }


def _assert_untouched(tr: Trainer, snap: dict) -> None:
    now = _snapshot(tr)
    for k in ("flat", "grad", "state"):
        np.testing.assert_array_equal(now[k], snap[k])  # bit for bit
    assert now["counters"] == snap["counters"]
    for k, v in snap["optim"].items():
        np.testing.assert_array_equal(now["optim"][k], v)


# --- text features and unit ranking ---------------------------------------------------------------

def test_text_features_by_hand():
    f = A.text_features('a "B(c[d])" e\nxy)')
    assert set(f) == set(A.FEATURES)
    np.testing.assert_array_equal(f["inside quotes"], [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(f["bracket depth"], [0, 0, 0, 0, 1, 1, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(f["position in line"], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 1, 2])
    np.testing.assert_array_equal(f["after a space"], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(f["uppercase"], [0, 0, 0, 1] + [0] * 13)
    assert all(v.dtype == np.float64 and v.shape == (17,) for v in f.values())


def test_unmatched_closers_never_make_the_depth_negative():
    np.testing.assert_array_equal(A.text_features("))(()")["bracket depth"], [0, 0, 1, 2, 1])
    assert all(len(v) == 0 for v in A.text_features("").values())


def test_a_unit_equal_to_the_quote_indicator_ranks_first_with_correlation_one():
    f = A.text_features(TEXT)
    rng = np.random.default_rng(1)
    hidden = rng.uniform(-1, 1, (len(TEXT), 8))
    hidden[:, 3] = f["inside quotes"] * 1.6 - 0.8
    hidden[:, 5] = -0.3 * f["bracket depth"]          # perfectly anti-correlated
    hidden[:, 6] = 0.25                               # a constant unit: r = 0, no NaN, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ranking = A.rank_units(hidden, f, top=3)
        names, r = A.unit_correlations(hidden, f)
    quote = [row for row in ranking if row[0] == "inside quotes"]
    assert quote[0][:2] == ("inside quotes", 3) and quote[0][2] == pytest.approx(1.0)
    depth = [row for row in ranking if row[0] == "bracket depth"]
    assert depth[0][:2] == ("bracket depth", 5) and depth[0][2] == pytest.approx(-1.0)
    assert all(abs(a[2]) >= abs(b[2]) for a, b in zip(quote, quote[1:]))
    assert len(quote) == 3
    assert np.all(r[:, 6] == 0.0)
    # Every other correlation matches numpy's corrcoef.
    for k, name in enumerate(names):
        for u in (0, 1, 3):
            assert r[k, u] == pytest.approx(np.corrcoef(f[name], hidden[:, u])[0, 1], abs=1e-12)


def test_constant_features_are_left_out_of_the_ranking():
    hidden = np.random.default_rng(0).standard_normal((5, 4))
    ranking = A.rank_units(hidden, A.text_features("abcde"))  # no quotes, brackets, spaces or capitals
    assert {row[0] for row in ranking} == {"position in line"}


def test_unit_activation():
    hidden = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(A.unit_activation(hidden, 2), [2, 5, 8, 11])
    with pytest.raises(ValueError, match="from 0 to 2"):
        A.unit_activation(hidden, 3)


# --- surprise -------------------------------------------------------------------------------------

def test_surprise_is_the_probe_loss_and_the_top_guesses_come_from_the_same_distribution():
    tr = _trainer(iters=60)
    probe = tr.probe(TEXT[:40])
    loss, guesses = A.surprise(probe, tr.vocab.chars)
    assert loss.shape == (39,) and len(guesses) == 39
    ids = tr.vocab.encode(TEXT[:40])
    np.testing.assert_allclose(loss, -np.log(probe.probs[np.arange(39), ids[1:]]))
    for t in (0, 17, 38):
        g = guesses[t]
        assert len(g) == 3 and g[0][1] >= g[1][1] >= g[2][1]
        assert g[0] == (tr.vocab.chars[int(np.argmax(probe.probs[t]))], pytest.approx(probe.probs[t].max()))
        assert sorted(probe.probs[t])[-3] == pytest.approx(g[2][1])


# --- n-gram baselines -----------------------------------------------------------------------------

def _naive_conditional(ids, n):
    grams = Counter(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1))
    ctx = Counter(tuple(ids[i : i + n - 1]) for i in range(len(ids) - n + 1))
    total = sum(grams.values())
    return -sum(c / total * math.log(c / ctx[g[:-1]]) for g, c in grams.items())


def test_ngram_entropies_of_a_periodic_text():
    ids = np.array([0, 1] * 500)
    h = A.ngram_entropies(ids, 2)
    assert h["unigram"] == pytest.approx(math.log(2))
    assert h["bigram"] == pytest.approx(0.0, abs=1e-12) and h["trigram"] == pytest.approx(0.0, abs=1e-12)


def test_ngram_entropies_of_uniform_random_text_approach_log_v():
    ids = np.random.default_rng(0).integers(0, 5, 300_000)
    h = A.ngram_entropies(ids, 5)
    for k in ("unigram", "bigram", "trigram"):
        assert h[k] == pytest.approx(math.log(5), abs=0.005)
    assert h["unigram"] >= h["bigram"] >= h["trigram"]


@pytest.mark.parametrize("V", [7, 200])  # 200**3 > 4M cells: the np.unique path
def test_ngram_entropies_match_naive_counting(V):
    ids = np.random.default_rng(V).integers(0, V, 3000) // np.random.default_rng(1).integers(1, 4, 3000)
    h = A.ngram_entropies(ids, V)
    p = np.bincount(ids, minlength=V) / len(ids)
    assert h["unigram"] == pytest.approx(-sum(x * math.log(x) for x in p if x))
    assert h["bigram"] == pytest.approx(_naive_conditional(list(ids), 2))
    assert h["trigram"] == pytest.approx(_naive_conditional(list(ids), 3))


def test_ngram_entropies_short_and_bad_input():
    assert A.ngram_entropies(np.array([], dtype=int), 3) == {}
    assert set(A.ngram_entropies(np.array([1, 2]), 3)) == {"unigram", "bigram"}
    with pytest.raises(ValueError, match="0..2"):
        A.ngram_entropies(np.array([0, 3]), 3)


# --- validation loss ------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ALL_CELLS)
def test_validation_loss_equals_the_mean_probe_loss(cell):
    tr = _trainer(cell, iters=30, val_fraction=0.2)
    held = tr.vocab.decode(tr.val_data)
    short = tr.val_data[:10]  # fits in one window from the zero state
    assert A.validation_loss(tr.model, short, tr.config.seq_length) == pytest.approx(
        tr.probe(tr.vocab.decode(short)).loss.mean(), rel=1e-12)
    # Many windows with the state carried read exactly like one long pass.
    assert A.validation_loss(tr.model, tr.val_data, 7) == pytest.approx(tr.probe(held).loss.mean(), rel=1e-10)
    # The cap scores the first max_chars predictions only.
    assert A.validation_loss(tr.model, tr.val_data, 7, max_chars=20) == pytest.approx(
        tr.probe(held[:21]).loss.mean(), rel=1e-10)


def test_validation_loss_needs_two_characters():
    tr = _trainer(iters=1)
    with pytest.raises(ValueError, match="at least 2"):
        A.validation_loss(tr.model, tr.val_data, 25)  # val_fraction = 0: nothing held out


def test_validation_due():
    assert A.validation_due(None, 5, 100)
    assert not A.validation_due(100, 150, 100) and A.validation_due(100, 200, 100) and A.validation_due(100, 950, 100)
    assert not A.validation_due(None, 5, 0) and not A.validation_due(None, 0, 10)


# --- gradient flow --------------------------------------------------------------------------------

def _naive_dh_norms(tr: Trainer, inputs, targets, h0) -> np.ndarray:
    """Per-step BPTT with column vectors, as min-char-rnn writes it; returns ‖total dL/dh_t‖."""
    p = {k: v.copy() for k, v in tr.model.params.items()}
    V, T = tr.model.V, len(inputs)
    hs, ps = {-1: h0.reshape(-1, 1)}, {}
    for t in range(T):
        x = np.zeros((V, 1))
        x[inputs[t]] = 1
        hs[t] = np.tanh(p["Wxh"] @ x + p["Whh"] @ hs[t - 1] + p["bh"].reshape(-1, 1))
        y = p["Why"] @ hs[t] + p["by"].reshape(-1, 1)
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
    norms, dhnext = np.zeros(T), np.zeros_like(hs[0])
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dh = p["Why"].T @ dy + dhnext
        norms[t] = np.linalg.norm(dh)
        dhnext = p["Whh"].T @ ((1 - hs[t] ** 2) * dh)
    return norms


def test_gradient_flow_norms_equal_naive_bptt_and_the_trainer_is_untouched():
    tr = _trainer(iters=33)
    snap = _snapshot(tr)
    g = A.gradient_flow(tr)
    _assert_untouched(tr, snap)
    p, T = tr.pointer, tr.config.seq_length
    np.testing.assert_allclose(g.norms, _naive_dh_norms(tr, tr.data[p : p + T], tr.data[p + 1 : p + T + 1], tr.state), rtol=1e-10)
    assert g.start == p and g.chars == TEXT[p : p + T]
    assert g.norms.shape == (T,) and np.all(g.norms > 0)


@pytest.mark.parametrize("cell", ALL_CELLS)
def test_gradient_flow_matches_finite_differences_and_the_next_step(cell):
    """For any cell: norms[t] = ‖d(loss of steps t..T-1)/dh_t‖, checked by central differences on h_t."""
    tr = _trainer(cell, iters=21, hidden_size=5, seq_length=6)
    g = A.gradient_flow(tr)
    w = A.next_window(tr)
    m = tr.model
    for t in (0, 3, 5):
        full = m.forward(w.inputs[: t + 1], w.state0).state

        def future_loss(h):
            s = full.copy()
            s[: m.H] = h
            scores = m.params["Why"] @ h + m.params["by"]
            loss = -np.log(softmax(scores)[w.targets[t]])
            if t + 1 < len(w.inputs):
                loss += m.loss_and_grads(w.inputs[t + 1 :], w.targets[t + 1 :], s)[0]
            return loss

        h, eps = full[: m.H], 1e-6
        num = np.array([(future_loss(h + eps * e) - future_loss(h - eps * e)) / (2 * eps) for e in np.eye(m.H)])
        assert g.norms[t] == pytest.approx(np.linalg.norm(num), rel=1e-6)
    # Same gradients as the step the trainer takes next, before its clipping.
    loss, grads, _ = m.loss_and_grads(w.inputs, w.targets, w.state0)
    assert g.loss == pytest.approx(loss, rel=1e-12)
    for k, v in grads.items():
        assert g.grad_norms[k] == pytest.approx(np.linalg.norm(v), rel=1e-12)
    assert tr.step(1)[0] == pytest.approx(g.loss, rel=1e-12)


def test_gradient_flow_after_a_wrap_uses_the_start_of_the_text_and_a_zero_state():
    tr = _trainer(iters=0)
    g = A.gradient_flow(tr)  # iteration 0: the first step starts at 0 from zeros
    assert g.start == 0 and g.chars == TEXT[:12]
    tr.step(1)
    tr.pointer = len(tr.data) - 5   # the next step must wrap
    w = A.next_window(tr)
    assert w.start == 0 and not w.state0.any()


def test_clipped_share_counts_the_entries_clipping_changes():
    tr = _trainer(iters=10)
    w = A.next_window(tr)
    _, grads, _ = tr.model.loss_and_grads(w.inputs, w.targets, w.state0)
    clip = float(np.median(np.abs(grads["Whh"])))
    tr.apply_live(clip=clip)
    g = A.gradient_flow(tr)
    for k, v in grads.items():
        assert g.clipped_share[k] == pytest.approx(np.mean(np.abs(v) > clip))
    assert 0.4 < g.clipped_share["Whh"] <= 0.5
    tr.apply_live(clip=None)
    assert set(A.gradient_flow(tr).clipped_share.values()) == {0.0}


# --- one step under the microscope ----------------------------------------------------------------

def test_microscope_walks_the_first_character_like_the_notebook():
    """Seed 000/004 at iteration 0: zero h_prev, plain SGD at lr 0.1 on this one step, p(target) rises."""
    tr = Trainer(TEXT, TrainConfig(hidden_size=10, seq_length=12))
    snap = _snapshot(tr)
    m = A.microscope(tr, 0)
    _assert_untouched(tr, snap)
    ids = tr.vocab.encode(TEXT)
    P = {k: v.copy() for k, v in tr.model.params.items()}
    x = np.zeros(tr.vocab.size)
    x[ids[0]] = 1
    h = np.tanh(P["Wxh"] @ x + P["Whh"] @ np.zeros(10) + P["bh"])   # the correct form: bias outside
    y = P["Why"] @ h + P["by"]
    p = np.exp(y) / np.exp(y).sum()
    dy = p.copy()
    dy[ids[1]] -= 1
    dh_raw = (1 - h**2) * (P["Why"].T @ dy)
    lr = 0.1
    P2 = {"Wxh": P["Wxh"] - lr * np.outer(dh_raw, x), "Whh": P["Whh"] - lr * np.outer(dh_raw, np.zeros(10)),
          "bh": P["bh"] - lr * dh_raw, "Why": P["Why"] - lr * np.outer(dy, h), "by": P["by"] - lr * dy}
    h2 = np.tanh(P2["Wxh"] @ x + P2["Whh"] @ np.zeros(10) + P2["bh"])
    y2 = P2["Why"] @ h2 + P2["by"]
    p2 = np.exp(y2) / np.exp(y2).sum()
    assert (m["input_char"], m["target_char"], m["input_id"], m["target_id"]) == (TEXT[0], TEXT[1], ids[0], ids[1])
    np.testing.assert_array_equal(m["onehot"], x)
    np.testing.assert_array_equal(m["h_prev"], np.zeros(10))
    for key, ref in (("h", h), ("scores", y), ("probs", p), ("dscores", dy)):
        np.testing.assert_allclose(m[key], ref, rtol=1e-10, atol=1e-15)
    assert m["p_before"] == pytest.approx(p[ids[1]]) and m["p_after"] == pytest.approx(p2[ids[1]], rel=1e-10)
    assert m["p_after"] > m["p_before"] and m["loss_after"] < m["loss_before"]
    assert m["update"] == "sgd" and m["learning_rate"] == 0.1
    assert m["terms"]["bias_inside_gap"] == 0.0  # bh = 0 at the start: the seeds' slip is invisible here


@pytest.mark.parametrize("cell", ALL_CELLS)
@pytest.mark.parametrize("update", ["sgd", "trainer"])
def test_microscope_mid_window_any_cell(cell, update):
    tr = _trainer(cell, iters=25)
    snap = _snapshot(tr)
    w = A.next_window(tr)
    m = A.microscope(tr, 7, update=update, learning_rate=0.01)
    _assert_untouched(tr, snap)
    fw = tr.model.forward(w.inputs, w.state0)
    np.testing.assert_allclose(m["h_prev"], fw.hidden[6], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m["h"], fw.hidden[7], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m["probs"], fw.probs[7], rtol=1e-12)
    np.testing.assert_allclose(m["probs"], softmax(m["scores"]), rtol=1e-12)
    assert m["dscores"].sum() == pytest.approx(0.0, abs=1e-12)
    assert m["dscores"][m["target_id"]] == pytest.approx(m["p_before"] - 1)
    assert m["target_id"] == w.targets[7] and m["onehot"][w.inputs[7]] == 1 and m["onehot"].sum() == 1
    assert m["p_after"] > m["p_before"]
    assert m["formula"] == CELLS[cell].equation and m["formula"].startswith(("h = ", "c = "))
    if cell == "rnn":
        t = m["terms"]
        np.testing.assert_allclose(np.tanh(t["Wxh·x"] + t["Whh·h_prev"] + t["bh"]), m["h"], rtol=1e-12)
        assert t["bias_inside_gap"] > 0  # bh has moved away from 0 by now


def test_microscope_bad_arguments():
    tr = _trainer(iters=2)
    with pytest.raises(ValueError, match="from 0 to 11"):
        A.microscope(tr, 12)
    with pytest.raises(ValueError, match="update"):
        A.microscope(tr, 0, update="adam")
    with pytest.raises(ValueError, match="learning rate"):
        A.microscope(tr, 0, learning_rate=-1)


# --- samples over time ----------------------------------------------------------------------------

def test_nearest_sample_and_iterations():
    samples = [(100, "a"), (300, "b"), (1000, "c"), (500, "d")]
    assert A.sample_iterations(samples) == [100, 300, 500, 1000]
    assert A.nearest_sample(samples, 0) == (100, "a")
    assert A.nearest_sample(samples, 420) == (500, "d")
    assert A.nearest_sample(samples, 400) == (300, "b")   # a tie goes to the earlier sample
    assert A.nearest_sample(samples, 10**9) == (1000, "c")
    assert A.nearest_sample([], 5) is None
