"""Property-based tests: load_text, Vocab, sample and probe on arbitrary inputs (hypothesis)."""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rnn_core import TextError, TrainConfig, Trainer, Vocab, char_label, limits, load_text
from rnn_core.cells import CELLS
from tests.helpers_reliability import PROSE

# database=None: no .hypothesis folder in the work tree; deadline=None: timing is not a property.
PROPS = settings(max_examples=60, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Every code point UTF-8 can hold: non-BMP, controls... (lone surrogates, which a Python str can hold too,
# are refused by the engine: their own property below).
ANY_CHAR = st.characters(exclude_categories=["Cs"])
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
NON_BMP = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)


@functools.cache
def trained(cell: str = "rnn") -> Trainer:
    tr = Trainer(PROSE, TrainConfig(cell=cell, hidden_size=12, seq_length=10, sample_every=0))
    tr.step(60)
    return tr


# ---- load_text ------------------------------------------------------------------------------

def _expected(raw: bytes) -> str:
    return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


_TEXTY = st.text(alphabet=st.sampled_from("ab é\r\n\t\x07€😀"), max_size=300).map(str.encode)
_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=300).map(str.encode),
    _TEXTY,
    _TEXTY.map(lambda b: b"\xef\xbb\xbf" + b),
    st.sampled_from([b"\x89PNG", b"\xff\xfe", b"\xfe\xff", b"PK\x03\x04", b"GIF8", b"\xff\xd8\xff"]).flatmap(
        lambda magic: st.binary(max_size=200).map(lambda b: magic + b)),
)


@PROPS
@given(raw=_BYTES, max_chars=st.one_of(st.just(limits.MAX_TEXT_CHARS), st.integers(1, 400)))
def test_load_text_returns_clean_text_or_raises_text_error(raw, max_chars):
    try:
        text = load_text(raw, max_chars=max_chars)
    except TextError as err:
        assert str(err).endswith(".") and len(str(err)) > 20   # a sentence, not a bare token
        return
    assert isinstance(text, str) and "\r" not in text
    assert text.strip() and len(text) <= max_chars
    assert text == _expected(raw)                            # nothing else is altered


@PROPS
@given(raw=st.one_of(st.binary(max_size=500), _TEXTY), kind=st.sampled_from([bytearray, memoryview]))
def test_load_text_accepts_any_bytes_like(raw, kind):
    try:
        expected = load_text(raw)
    except TextError:
        with pytest.raises(TextError):
            load_text(kind(raw))
        return
    assert load_text(kind(raw)) == expected


# ---- Vocab ----------------------------------------------------------------------------------

@PROPS
@given(text=st.one_of(st.text(ANY_CHAR, min_size=1, max_size=300), st.text(NON_BMP, min_size=1, max_size=50),
                       st.text(min_size=1, max_size=300)))
def test_vocab_round_trip_sorted_distinct(text):
    v = Vocab.from_text(text)
    assert list(v.chars) == sorted(set(text))                # sorted by code point, distinct, complete
    ids = v.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert ids.min() >= 0 and ids.max() < v.size
    assert v.decode(ids) == text
    assert v.unknown(text) == []
    assert Vocab.from_chars(v.chars).chars == v.chars
    assert all(v.index[c] == i for i, c in enumerate(v.chars))


@PROPS
@given(before=st.text(ANY_CHAR, max_size=50), bad=SURROGATE, after=st.text(ANY_CHAR, max_size=50))
def test_a_lone_surrogate_anywhere_is_refused_by_name(before, bad, after):
    with pytest.raises(TextError, match=f"U\\+{ord(bad):04X}, a lone surrogate"):
        Vocab.from_text(before + bad + after)


@PROPS
@given(text=st.text(ANY_CHAR, min_size=1, max_size=200), cap=st.integers(1, 40))
def test_vocab_cap(text, cap):
    distinct = len(set(text))
    if distinct > cap:
        with pytest.raises(TextError, match=f"{distinct:,} distinct characters; the limit is {cap}"):
            Vocab.from_text(text, max_size=cap)
    else:
        assert Vocab.from_text(text, max_size=cap).size == distinct


@PROPS
@given(text=st.text(ANY_CHAR, min_size=1, max_size=100), other=st.text(ANY_CHAR, min_size=1, max_size=60))
def test_vocab_encode_outside_names_the_missing(text, other):
    v = Vocab.from_text(text)
    missing = sorted(set(other) - set(text))
    assert v.unknown(other) == missing
    if not missing:
        assert v.decode(v.encode(other)) == other
        return
    with pytest.raises(TextError) as info:
        v.encode(other)
    message = str(info.value)
    for ch in missing[:10]:
        assert repr(char_label(ch)) in message


# ---- sample ---------------------------------------------------------------------------------

def _prime(tr):
    return st.text(st.sampled_from(tr.vocab.chars), min_size=1, max_size=6)


_TEMPERATURE = st.one_of(st.floats(min_value=0.0, max_value=1e308, exclude_min=True, allow_subnormal=True),
                         st.sampled_from([1.0, 0.5, 2.0, 5e-324, 1e-300, 1e300]))


@PROPS
@given(data=st.data(), length=st.integers(1, 250),  # the cap itself: test_bad_input_config
       temperature=_TEMPERATURE, top_k=st.one_of(st.none(), st.integers(1, 80)),
       seed=st.one_of(st.none(), st.integers(0, 2**64 - 1)), greedy=st.booleans())
def test_sample_valid_args(data, length, temperature, top_k, seed, greedy):
    tr = trained()
    prime = data.draw(_prime(tr))
    flat = tr.model.flat.copy()
    out = tr.sample(prime, length, temperature=temperature, top_k=top_k, greedy=greedy, seed=seed)
    assert isinstance(out, str) and len(out) == length
    assert set(out) <= set(tr.vocab.chars)
    if seed is not None or greedy:
        assert tr.sample(prime, length, temperature=temperature, top_k=top_k, greedy=greedy, seed=seed) == out
    if top_k == 1 or temperature <= 1e-250:
        assert out == tr.sample(prime, length, greedy=True)   # the limit of the distribution is its mode
    assert np.array_equal(tr.model.flat, flat)                # sampling never trains


_BAD_SAMPLE = st.one_of(
    st.fixed_dictionaries({"length": st.one_of(st.integers(max_value=0), st.integers(min_value=limits.MAX_SAMPLE_LENGTH + 1),
                                               st.floats(allow_nan=True), st.text(max_size=3))}),
    st.fixed_dictionaries({"temperature": st.one_of(st.floats(max_value=0.0), st.just(float("nan")),
                                                    st.just(float("inf")), st.text(max_size=3))}),
    st.fixed_dictionaries({"top_k": st.one_of(st.integers(max_value=0), st.floats(), st.text(max_size=3))}),
    st.fixed_dictionaries({"seed": st.one_of(st.integers(max_value=-1), st.floats(), st.text(min_size=1, max_size=3))}),
)


@PROPS
@given(bad=_BAD_SAMPLE)
def test_sample_invalid_args_raise_value_error(bad):
    args = {"seed_char": "t", "length": 10, **bad}
    with pytest.raises(ValueError):
        trained().sample(**args)


@PROPS
@given(prime=st.text(ANY_CHAR, min_size=1, max_size=8))
def test_sample_prime_outside_vocabulary(prime):
    tr = trained()
    missing = tr.vocab.unknown(prime)
    assume(missing)
    with pytest.raises(ValueError, match="not in the vocabulary") as info:
        tr.sample(prime, 5)
    assert repr(char_label(missing[0])) in str(info.value)


# ---- probe ----------------------------------------------------------------------------------

@PROPS
@given(data=st.data(), cell=st.sampled_from(sorted(CELLS)))
def test_probe_over_the_vocabulary(data, cell):
    tr = trained(cell)
    text = data.draw(st.text(st.sampled_from(tr.vocab.chars), min_size=1, max_size=120))
    p = tr.probe(text)
    T, H, V = len(text), tr.config.hidden_size, tr.vocab.size
    assert p.hidden.shape == (T, H) and p.probs.shape == (T, V) and p.loss.shape == (T - 1,)
    assert np.isfinite(p.hidden).all() and np.isfinite(p.probs).all() and np.isfinite(p.loss).all()
    assert (p.probs >= 0).all() and np.allclose(p.probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.abs(p.hidden).max() <= 1.0                      # every cell's h is a tanh (times a gate)
    assert np.allclose(p.loss, -np.log(p.probs[np.arange(T - 1), p.ids[1:]]))
    assert tr.vocab.decode(p.ids) == text
    for name, arr in p.extras.items():
        assert arr.shape[0] == T and np.isfinite(arr).all(), name


@PROPS
@given(data=st.data(), outside=st.text(ANY_CHAR, min_size=1, max_size=5))
def test_probe_outside_the_vocabulary_names_the_characters(data, outside):
    tr = trained()
    missing = tr.vocab.unknown(outside)
    assume(missing)
    inside = data.draw(st.text(st.sampled_from(tr.vocab.chars), max_size=20))
    cut = data.draw(st.integers(0, len(inside)))
    text = inside[:cut] + outside + inside[cut:]
    with pytest.raises(ValueError) as info:
        tr.probe(text)
    message = str(info.value)
    assert "not in the model's vocabulary" in message
    for ch in missing[:10]:
        assert repr(char_label(ch)) in message
