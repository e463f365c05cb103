"""Analytic gradients (BPTT) against central differences and against the oracle, in float64."""
import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer
from tests.helpers_engine import make_text, numeric_grad_check
from rnn_core.reference.oracle import NaiveRNN

TEXT = make_text(400, 20, seed=21)


def trainer(H=12, T=10):
    return Trainer(TEXT, TrainConfig(hidden_size=H, seq_length=T))


def window(tr, T=10):
    """(inputs, targets) of the first window of the text."""
    return tr.data[:T], tr.data[1 : T + 1]


def randomize(tr, scale, seed=0):
    rng = np.random.default_rng(seed)
    for k in tr.model.params:
        tr.model.params[k] = rng.standard_normal(tr.model.params[k].shape) * scale
    return rng


@pytest.mark.parametrize(
    "setup",
    ["normal-0.1", "init-x10", "normal-1.0"],
)
def test_gradients_match_central_differences(setup):
    tr = trainer()
    if setup == "init-x10":
        for k in tr.model.params:
            tr.model.params[k] = tr.model.params[k] * 10 + (0.1 if k in ("bh", "by") else 0.0)
        rng = np.random.default_rng(1)
    else:
        rng = randomize(tr, float(setup.split("-")[1]), seed=2)
    h0 = rng.uniform(-0.9, 0.9, tr.model.state_size)      # a nonzero carried state
    d = tr.data
    inputs, targets = d[5:15], d[6:16]
    errors = numeric_grad_check(tr.model, inputs, targets, h0, n_samples=25, rng=rng)
    assert set(errors) == {"Wxh", "Whh", "Why", "bh", "by"}
    for name, err in errors.items():
        assert err < 1e-6, f"{name}: relative error {err:.2e}"


def test_gradcheck_helper_catches_a_wrong_gradient():
    """The checker itself can fail: a model whose Whh gradient is off by 1% does not pass."""
    tr = trainer()
    rng = randomize(tr, 0.5, seed=3)
    model = tr.model
    honest = model.loss_and_grads

    def broken(inputs, targets, h0=None):
        loss, grads, h = honest(inputs, targets, h0)
        grads["Whh"] = grads["Whh"] * 1.01
        return loss, grads, h

    model.loss_and_grads = broken
    errors = numeric_grad_check(model, *window(tr), None, n_samples=10, rng=rng)
    assert errors["Whh"] > 1e-3 and errors["Wxh"] < 1e-6


def test_loss_and_grads_equals_the_oracle_and_does_not_clip():
    tr = trainer(H=16, T=10)
    rng = randomize(tr, 1.0, seed=4)                   # big weights: gradients well above 5
    h0 = rng.uniform(-1, 1, 16)
    inputs, targets = window(tr)
    loss, grads, h_last = tr.model.loss_and_grads(inputs, targets, h0)
    assert max(np.abs(g).max() for g in grads.values()) > 5.0

    naive = NaiveRNN(TEXT, hidden_size=16, seq_length=10, params={k: v.copy() for k, v in tr.model.params.items()})
    n_loss, n_grads, n_h = naive.loss_fun(list(inputs), list(targets), h0.reshape(-1, 1), clip=False)
    assert loss == pytest.approx(n_loss, rel=1e-13)
    for name, g in zip(("Wxh", "Whh", "Why", "bh", "by"), n_grads):
        np.testing.assert_allclose(grads[name].reshape(g.shape), g, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(np.ravel(h_last), n_h.ravel(), rtol=0, atol=1e-14)


def test_zero_state_default_and_fresh_gradient_arrays():
    tr = trainer()
    randomize(tr, 0.3, seed=5)
    inputs, targets = window(tr)
    l1, g1, h1 = tr.model.loss_and_grads(inputs, targets)
    l0, g0, h0 = tr.model.loss_and_grads(inputs, targets, np.zeros(tr.model.state_size))
    assert l1 == l0 and np.array_equal(h1, h0)
    snapshot = {k: v.copy() for k, v in g1.items()}
    tr.model.loss_and_grads(tr.data[30:40], tr.data[31:41])   # another window must not overwrite g1
    for k in g1:
        assert np.array_equal(g1[k], snapshot[k]) and g1[k].shape == tr.model.params[k].shape
    # loss_and_grads does not move the parameters.
    before = tr.model.flat.copy()
    tr.model.loss_and_grads(inputs, targets)
    assert np.array_equal(before, tr.model.flat)


def test_loss_is_summed_negative_log_probability():
    tr = trainer()
    randomize(tr, 0.3, seed=6)
    text = tr.vocab.decode(tr.data[:11])
    probe = tr.probe(text)
    loss, _, _ = tr.model.loss_and_grads(tr.data[:10], tr.data[1:11])
    assert loss == pytest.approx(probe.loss.sum(), rel=1e-13)
    assert loss == pytest.approx(-np.log(probe.probs[np.arange(10), tr.data[1:11]]).sum(), rel=1e-13)
