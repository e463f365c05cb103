"""The engine's optimizers and settings: reference updates, live changes, refused values."""
import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer, limits
from rnn_core.optim import OPTIMIZERS, make_optimizer
from tests.helpers_engine import make_text

TEXT = make_text(3000, 30, seed=31)


# ---- optimizers ----------------------------------------------------------------------------------

class Reference:
    """Hand-written updates, one line of maths each, on separate arrays."""

    def __init__(self, name, size):
        self.name, self.t = name, 0
        self.a, self.b = np.zeros(size), np.zeros(size)

    def update(self, w, g, lr):
        self.t += 1
        if self.name == "adagrad":
            self.a += g * g
            return w - lr * g / np.sqrt(self.a + 1e-8)
        if self.name == "sgd":
            return w - lr * g
        if self.name == "momentum":
            self.a = 0.9 * self.a - lr * g
            return w + self.a
        if self.name == "adam":
            self.a = 0.9 * self.a + 0.1 * g
            self.b = 0.999 * self.b + 0.001 * g * g
            m_hat, v_hat = self.a / (1 - 0.9**self.t), self.b / (1 - 0.999**self.t)
            return w - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        raise AssertionError(self.name)


def test_the_four_optimizers_exist():
    assert set(OPTIMIZERS) == {"adagrad", "sgd", "momentum", "adam"}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_the_reference_on_known_gradients(name):
    rng = np.random.default_rng(40)
    w = rng.standard_normal(50)
    ref_w = w.copy()
    opt, ref = make_optimizer(name, 50), Reference(name, 50)
    for lr in (0.05, 0.2, 0.01):               # the learning rate is read at every update
        g = rng.standard_normal(50) * 3
        g[:5] = 0.0                            # zero gradients too (adagrad: no move; adam: momentum)
        opt.update(w, g, lr)
        ref_w = ref.update(ref_w, g, lr)
        np.testing.assert_allclose(w, ref_w, rtol=1e-13, atol=1e-15)
    assert opt.t == 3
    if name in ("adagrad", "momentum"):
        np.testing.assert_allclose(next(iter(opt.state.values())), ref.a, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trainer_updates_match_the_reference_and_live_learning_rate(name):
    """Three iterations of the trainer == grads of the window, clipped, then the reference update;
    the learning rate changes between step() calls (setter, then apply_live) without a reset."""
    tr = Trainer(TEXT, TrainConfig(hidden_size=16, seq_length=12, optimizer=name, learning_rate=0.05, clip=5.0))
    for k in tr.model.params:  # weights big enough that clipping matters
        tr.model.params[k] = np.random.default_rng(41).standard_normal(tr.model.params[k].shape) * 0.5
    ref = Reference(name, tr.model.flat.size)
    w, h, T = tr.model.flat.copy(), np.zeros(16), 12
    clipped_any = False
    for it, lr in enumerate((0.05, 0.01, 0.2)):
        if it == 1:
            tr.learning_rate = lr
        elif it == 2:
            tr.apply_live(learning_rate=lr)
        assert tr.config.learning_rate == lr
        _, grads, h_next = tr.model.loss_and_grads(tr.data[it * T : it * T + T], tr.data[it * T + 1 : it * T + T + 1], h)
        g = np.concatenate([grads[k].ravel() for k in tr.model.params])
        clipped_any |= bool(np.abs(g).max() > 5)
        w = ref.update(w, np.clip(g, -5, 5), lr)
        tr.step(1)
        np.testing.assert_allclose(tr.model.flat, w, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tr.state[0], h_next, rtol=0, atol=1e-14)   # state: (B, S), B = 1
        h = h_next
    assert clipped_any and tr.iteration == 3 and tr.optimizer.t == 3


def test_switching_optimizer_live_keeps_the_model_and_starts_the_new_optimizer_fresh():
    tr = Trainer(TEXT, TrainConfig(hidden_size=16, seq_length=12, sample_every=0))
    tr.step(5)
    w, h, p = tr.model.flat.copy(), tr.state.copy(), tr.pointer
    tr.apply_live(optimizer="adam", learning_rate=0.01)
    assert tr.optimizer.name == "adam" and tr.optimizer.t == 0
    assert all(not v.any() for v in tr.optimizer.state.values())
    assert tr.iteration == 5 and np.array_equal(tr.model.flat, w) and tr.pointer == p
    _, grads, _ = tr.model.loss_and_grads(tr.data[p : p + 12], tr.data[p + 1 : p + 13], h)
    g = np.clip(np.concatenate([grads[k].ravel() for k in tr.model.params]), -5, 5)
    tr.step(1)
    np.testing.assert_allclose(tr.model.flat, Reference("adam", g.size).update(w, g, 0.01), rtol=1e-12, atol=1e-14)
    assert tr.iteration == 6
    tr.apply_live(clip=None)
    assert tr.config.clip is None
    tr.step(2)


def test_unknown_optimizer_and_frozen_settings_are_refused():
    with pytest.raises(ValueError, match=r"Unknown optimizer 'rmsprop'.*adagrad"):
        Trainer(TEXT, TrainConfig(optimizer="rmsprop"))
    with pytest.raises(ValueError, match="Unknown optimizer"):
        make_optimizer("nope", 3)
    tr = Trainer(TEXT, TrainConfig(hidden_size=8))
    before = (tr.config, tr.optimizer)
    for bad in (dict(optimizer="nope"), dict(learning_rate=0.0), dict(learning_rate=float("nan")),
                dict(clip=-1.0)):
        with pytest.raises(ValueError):
            tr.apply_live(**bad)
        assert (tr.config, tr.optimizer) == before
    with pytest.raises(ValueError, match="cannot change mid-run"):
        tr.apply_live(hidden_size=16)
    with pytest.raises(ValueError):
        tr.learning_rate = -1


# ---- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "cfg, pattern",
    [
        (dict(hidden_size=0), r"hidden_size.*1 to"),
        (dict(hidden_size=limits.MAX_HIDDEN + 1), r"hidden_size"),
        (dict(hidden_size=2.5), r"hidden_size"),
        (dict(hidden_size=True), r"hidden_size"),
        (dict(seq_length=0), r"seq_length"),
        (dict(seq_length=limits.MAX_SEQ_LENGTH + 1), r"seq_length"),
        (dict(learning_rate=0.0), r"learning rate.*positive"),
        (dict(learning_rate=-0.1), r"learning rate"),
        (dict(learning_rate=float("nan")), r"learning rate"),
        (dict(learning_rate=float("inf")), r"learning rate"),
        (dict(cell="transformer"), r"Unknown cell 'transformer'.*rnn"),
        (dict(optimizer="lbfgs"), r"Unknown optimizer"),
        (dict(clip=-5.0), r"clip"),
        (dict(seed=-1), r"seed"),
    ],
)
def test_bad_settings_raise_value_errors(cfg, pattern):
    with pytest.raises(ValueError, match=pattern):
        Trainer(TEXT, TrainConfig(**cfg))


@pytest.mark.parametrize("field,value", [("learning_rate", True), ("clip", True)])
def test_booleans_are_not_numbers_in_config(field, value):
    with pytest.raises(ValueError):
        TrainConfig(**{field: value}).validate()
