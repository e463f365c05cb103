"""The engine's public API: sampling, probing, optimizers, settings and text checks, load_text, encoding."""
import math
import re

import numpy as np
import pytest

from rnn_core import TextError, TrainConfig, Trainer, Vocab, limits, load_text
from rnn_core.optim import OPTIMIZERS, make_optimizer
from tests.helpers_engine import make_text

TEXT = make_text(3000, 30, seed=31)


@pytest.fixture(scope="module")
def trained():
    """A small model with some structure (read only in the tests that use it)."""
    tr = Trainer(TEXT, TrainConfig(hidden_size=32, seq_length=16, sample_every=0))
    tr.step(300)
    return tr


def hand_step(params, ix, h):
    """min-char-rnn's step with one-hot column vectors: -> (h, scores)."""
    V = params["Wxh"].shape[1]
    x = np.zeros((V, 1))
    x[ix] = 1.0
    h = np.tanh(params["Wxh"] @ x + params["Whh"] @ h + params["bh"].reshape(-1, 1))
    return h, (params["Why"] @ h + params["by"].reshape(-1, 1)).ravel()


def hand_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def hand_state(tr, text):
    h = np.zeros((tr.config.hidden_size, 1))
    for c in text:
        h, _ = hand_step(tr.model.params, tr.vocab.index[c], h)
    return h


def greedy_chain(tr, prime, n):
    ix = tr.vocab.index
    h = hand_state(tr, prime[:-1])
    cur, out = ix[prime[-1]], []
    for _ in range(n):
        h, scores = hand_step(tr.model.params, cur, h)
        cur = int(np.argmax(scores))
        out.append(tr.vocab.chars[cur])
    return "".join(out)


# ---- sampling ------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [1, 7, 500])
def test_sample_length_vocabulary_and_seed(trained, length):
    s = trained.sample("e", length, seed=3)
    assert isinstance(s, str) and len(s) == length
    assert set(s) <= set(trained.vocab.chars)
    assert trained.sample("e", length, seed=3) == s


def test_different_seeds_differ_and_no_seed_is_random(trained):
    a, b = trained.sample("e", 300, seed=1), trained.sample("e", 300, seed=2)
    assert a != b
    assert trained.sample("e", 300) != trained.sample("e", 300)


def test_greedy_is_the_argmax_chain(trained):
    g = trained.sample("t", 80, greedy=True, seed=1)
    assert g == trained.sample("t", 80, greedy=True, seed=99)
    assert g == greedy_chain(trained, "t", 80)
    assert trained.sample("t", 80, top_k=1, seed=5) == g


def test_prime_string_is_fed_before_sampling(trained):
    prime = "the "
    assert all(c in trained.vocab.chars for c in prime)
    assert trained.sample(prime, 60, greedy=True) == greedy_chain(trained, prime, 60)
    # Random sampling after a prime == sampling from the last prime char with the primed state.
    state = hand_state(trained, prime[:-1]).ravel()
    assert trained.sample(prime, 200, seed=8) == trained.sample(prime[-1], 200, seed=8, state=state)
    assert trained.sample(prime, 200, seed=8) != trained.sample(prime[-1], 200, seed=8)


def test_top_k_draws_only_among_the_k_best(trained):
    k = 3
    s = trained.sample("a", 300, top_k=k, seed=4)
    h, cur = np.zeros((32, 1)), trained.vocab.index["a"]
    for c in s:
        h, scores = hand_step(trained.model.params, cur, h)
        cur = trained.vocab.index[c]
        assert cur in np.argsort(scores)[-k:]
    assert len(set(s)) > k    # not stuck on a handful of characters either


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(seed_char="Z", length=5), r"'Z'.*not in the vocabulary"),
        (dict(seed_char="中", length=5), r"'中'.*not in the vocabulary"),
        (dict(seed_char="", length=5), r"seed character"),
        (dict(seed_char="e", length=0), r"length.*at least 1"),
        (dict(seed_char="e", length=-3), r"length"),
        (dict(seed_char="e", length=2.5), r"length"),
        (dict(seed_char="e", length=limits.MAX_SAMPLE_LENGTH + 1), r"capped"),
        (dict(seed_char="e", length=5, temperature=0), r"temperature.*above 0"),
        (dict(seed_char="e", length=5, temperature=-1.0), r"temperature"),
        (dict(seed_char="e", length=5, temperature=float("nan")), r"temperature"),
        (dict(seed_char="e", length=5, top_k=0), r"top_k"),
        (dict(seed_char="e", length=5, seed=-1), r"seed"),
    ],
)
def test_sample_rejects_bad_arguments(trained, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        trained.sample(**kwargs)


def _chi2_limit(df, z=3.5):
    """Wilson-Hilferty approximation of the chi-square quantile (z=3.5: p ~ 0.9998)."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


@pytest.fixture(scope="module")
def markov():
    """Whh = 0, bh = 0: the next-char distribution depends only on the current char, so one long
    sample is many independent draws from V known distributions. Wxh makes h = 0.5 * onehot(char),
    and Why then sets the scores S[char] directly."""
    text = make_text(400, 5, seed=32)               # vocabulary of 5
    tr = Trainer(text, TrainConfig(hidden_size=8, seq_length=10))
    V, H = tr.vocab.size, 8
    S = np.random.default_rng(33).normal(0.0, 0.8, (V, V))   # S[i] = scores after char i
    p = tr.model.params
    p["Whh"], p["bh"], p["by"] = np.zeros((H, H)), np.zeros(H), np.zeros(V)
    p["Wxh"] = np.arctanh(0.5) * np.eye(H, V)
    Why = np.zeros((V, H))
    Why[:, :V] = 2.0 * S.T
    p["Why"] = Why
    scores = np.array([hand_step(p, i, np.zeros((H, 1)))[1] for i in range(V)])  # (V, V)
    np.testing.assert_allclose(scores, S, atol=1e-12)
    return tr, scores


def transition_counts(tr, temperature, top_k, runs=6):
    V = tr.vocab.size
    counts = np.zeros((V, V))
    for r in range(runs):
        seed = tr.vocab.chars[r % V]
        s = seed + tr.sample(seed, limits.MAX_SAMPLE_LENGTH, temperature=temperature, top_k=top_k, seed=r)
        ids = tr.vocab.encode(s)
        np.add.at(counts, (ids[:-1], ids[1:]), 1)
    return counts


def chi2(counts, probs):
    """Pearson's statistic over all rows; cells expected below 5 are pooled into one bin per row."""
    stat, bins = 0.0, 0
    for c, p in zip(counts, probs):
        e = c.sum() * p
        small = e < 5
        obs, exp = list(c[~small]), list(e[~small])
        if e[small].sum() >= 5:
            obs.append(c[small].sum())
            exp.append(e[small].sum())
        elif e[small].sum() == 0:
            assert c[small].sum() == 0, "drew a character whose probability is 0"
        obs, exp = np.array(obs), np.array(exp)
        stat += float(((obs - exp) ** 2 / exp).sum())
        bins += len(obs) - 1
    return stat, bins


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (0.5, None), (1.7, None), (1.0, 3)])
def test_draws_follow_the_softmax_distribution(markov, temperature, top_k):
    tr, scores = markov
    probs = np.array([hand_softmax(s / temperature) for s in scores])
    if top_k is not None:
        cut = np.sort(scores, axis=1)[:, -top_k][:, None]
        probs = np.where(scores >= cut, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    counts = transition_counts(tr, temperature, top_k)
    stat, df = chi2(counts, probs)
    assert df >= 8 and stat < _chi2_limit(df), (stat, df)
    if top_k is not None:
        assert np.all(counts[probs == 0] == 0)
    # The test has teeth: the untempered / uncut distribution is rejected.
    if temperature != 1.0 or top_k is not None:
        plain = np.array([hand_softmax(s) for s in scores])
        wrong, df2 = chi2(counts, plain) if top_k is None else (np.inf, df)
        assert df2 > 0 and wrong > 10 * _chi2_limit(df2)


# ---- probe ---------------------------------------------------------------------------------------

def test_probe_shapes_probabilities_and_hidden_states(trained):
    text = "the tea at ten"
    text = "".join(c for c in text if c in trained.vocab.chars)
    pr = trained.probe(text)
    T, H, V = len(text), 32, trained.vocab.size
    assert pr.hidden.shape == (T, H) and pr.probs.shape == (T, V) and pr.loss.shape == (T - 1,)
    assert list(pr.ids) == [trained.vocab.index[c] for c in text]
    np.testing.assert_allclose(pr.probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    h = np.zeros((H, 1))
    for t, c in enumerate(text):
        h, scores = hand_step(trained.model.params, trained.vocab.index[c], h)
        np.testing.assert_allclose(pr.hidden[t], h.ravel(), rtol=0, atol=1e-13)
        np.testing.assert_allclose(pr.probs[t], hand_softmax(scores), rtol=1e-12, atol=1e-16)
    expected_loss = -np.log(pr.probs[np.arange(T - 1), pr.ids[1:]])
    np.testing.assert_allclose(pr.loss, expected_loss, rtol=1e-14)
    one = trained.probe("e")
    assert one.hidden.shape == (1, H) and one.loss.shape == (0,)


def test_probe_names_unknown_characters(trained):
    with pytest.raises(ValueError, match=r"'Z'.*'é'|'é'.*'Z'") as info:
        trained.probe("tea Zé")
    assert "vocabulary" in str(info.value)
    with pytest.raises(ValueError, match="empty"):
        trained.probe("")


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
        np.testing.assert_allclose(tr.state, h_next, rtol=0, atol=1e-14)
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


# ---- settings and text checks --------------------------------------------------------------------

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


def test_text_too_short_or_single_character():
    with pytest.raises(TextError, match=r"10 characters.*seq_length \+ 1 = 11.*longer text"):
        Trainer("abcdefghij", TrainConfig(seq_length=10))
    Trainer("abcdefghijk", TrainConfig(seq_length=10, hidden_size=4)).step(3)  # exactly T + 1 works
    with pytest.raises(TextError, match="single distinct character"):
        Trainer("a" * 500, TrainConfig())
    with pytest.raises(TypeError):
        Trainer(b"bytes are not text", TrainConfig())


def test_thousands_of_distinct_characters_get_a_clear_error():
    text = "".join(chr(0x4E00 + i) for i in range(5000)) * 2
    assert load_text(text.encode("utf-8")) == text          # it is valid text ...
    for make in (lambda: Vocab.from_text(text), lambda: Trainer(text, TrainConfig())):
        with pytest.raises(TextError, match=rf"5,000 distinct characters; the limit is {limits.MAX_VOCAB}"):
            make()
    ok = "".join(chr(0x4E00 + i) for i in range(limits.MAX_VOCAB)) * 2
    assert Trainer(ok, TrainConfig(hidden_size=8)).vocab.size == limits.MAX_VOCAB


# ---- load_text -----------------------------------------------------------------------------------

def test_load_text_decodes_and_normalizes():
    assert load_text(b"\xef\xbb\xbfhello") == "hello"
    assert load_text(b"a\r\nb\rc\nd\r\n") == "a\nb\nc\nd\n"
    assert load_text("caf\u00e9 \u4e2d \U0001F600\n".encode("utf-8")) == "caf\u00e9 \u4e2d \U0001F600\n"
    assert load_text(bytearray(b"tab\tok")) == "tab\tok"


ADVICE = r"(Upload|upload|Save|save|Choose|choose)"


@pytest.mark.parametrize(
    "raw, pattern",
    [
        (b"", r"empty"),
        (b"  \n\t \r\n ", r"empty|whitespace"),
        (b"abc\x00def ghi", r"NUL"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"PNG image"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", r"ZIP"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", r"PDF"),
        ("hello world".encode("utf-16"), r"UTF-16"),
        ("hello world".encode("utf-16-le"), r"UTF-16|NUL"),
        ("caf\u00e9 cr\u00e8me".encode("latin-1"), r"not valid UTF-8.*Latin-1"),
        (bytes(range(1, 9)) * 50 + b"some text", r"control characters"),
    ],
)
def test_load_text_refuses_what_is_not_text(raw, pattern):
    with pytest.raises(TextError, match=pattern) as info:
        load_text(raw)
    assert isinstance(info.value, ValueError)
    assert re.search(ADVICE, str(info.value)), str(info.value)


def test_load_text_refuses_too_long_and_non_bytes():
    with pytest.raises(TextError, match=r"limit is 10.*shorter"):
        load_text(b"abcdefghijkl", max_chars=10)
    assert load_text(b"abcdefghij", max_chars=10) == "abcdefghij"
    with pytest.raises(TextError, match="bytes"):
        load_text("already a str")


# ---- encoding ------------------------------------------------------------------------------------

def test_vocab_round_trip_with_non_ascii():
    text = "na\u00efve caf\u00e9 \u4e2d\u6587 \U0001F600\U0001F680 \u00e9\u00e9\n\tend"
    v = Vocab.from_text(text)
    assert v.chars == tuple(sorted(set(text)))
    ids = v.encode(text)
    assert ids.dtype.kind == "i" and list(ids) == [v.index[c] for c in text]
    assert v.decode(ids) == text
    assert v.decode([]) == "" and v.encode("").shape == (0,)
    with pytest.raises(TextError, match=r"not in the model's vocabulary: 'Z'"):
        v.encode("na\u00efve Z")
    assert v.unknown("xZ\u00e9") == ["Z", "x"]


def test_encode_3mb_matches_a_per_character_loop():
    text = make_text(3_000_000, 65, seed=42)
    text = text[:1000] + "\u00e9\u4e2d\U0001F600" + text[1000:]     # a few non-ASCII ones too
    v = Vocab.from_text(text)
    assert v.size == 68
    ids = v.encode(text)
    assert ids.shape == (len(text),)
    index = v.index
    for sl in (slice(0, 5000), slice(1_500_000, 1_520_000), slice(len(text) - 5000, None)):
        assert np.array_equal(ids[sl], np.array([index[c] for c in text[sl]]))
    assert np.array_equal(np.bincount(ids, minlength=v.size), [text.count(c) for c in v.chars])


def test_format_characters_and_nbsp_are_text_not_control():
    # ZWJ emoji sequences, soft hyphens and no-break spaces are ordinary text.
    raw = ("family \U0001F468\u200d\U0001F469\u200d\U0001F467 co\u00adop\u00a0end\n" * 50).encode("utf-8")
    assert load_text(raw).startswith("family")


def test_control_characters_still_refused():
    with pytest.raises(TextError, match="control characters"):
        load_text(("\x07\x1b" * 200 + "abc").encode("utf-8"))


@pytest.mark.parametrize("field,value", [("learning_rate", True), ("clip", True)])
def test_booleans_are_not_numbers_in_config(field, value):
    with pytest.raises(ValueError):
        TrainConfig(**{field: value}).validate()


def test_sample_state_of_wrong_shape_is_a_clear_error():
    tr = Trainer("hello world, hello there\n" * 4, TrainConfig(hidden_size=8, seq_length=5))
    with pytest.raises(ValueError, match="starting state must have shape"):
        tr.sample("h", 5, state=np.zeros(3))
