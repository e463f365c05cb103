"""The engine's text handling: load_text, the vocabulary and encoding, texts a model cannot train on."""
import re

import numpy as np
import pytest

from rnn_core import TextError, TrainConfig, Trainer, Vocab, limits, load_text
from tests.helpers_engine import make_text


# ---- text checks ---------------------------------------------------------------------------------

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
