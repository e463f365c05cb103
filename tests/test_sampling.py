"""The engine's sampling and probing, checked against a hand-written min-char-rnn step."""
import math

import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer, limits
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


def test_sample_state_of_wrong_shape_is_a_clear_error():
    tr = Trainer("hello world, hello there\n" * 4, TrainConfig(hidden_size=8, seq_length=5))
    with pytest.raises(ValueError, match="starting state must have shape"):
        tr.sample("h", 5, state=np.zeros(3))
