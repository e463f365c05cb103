"""Bad text a person can give the engine: uploads that are not text, texts that cannot be trained on.

Each case goes through `refused` (tests/helpers_reliability.py): a clear ValueError, the run untouched.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from rnn_core import TextError, TrainConfig, Trainer, Vocab, char_label, limits, load_text
from tests.helpers_files import zip_bytes
from tests.helpers_reliability import refused, small_trainer


@pytest.fixture(scope="module")
def existing() -> Trainer:
    """The visitor's current run (shared read-only; each test checks it is unchanged)."""
    return small_trainer(40)


# ---- uploaded text files --------------------------------------------------------------------

_RNG = np.random.default_rng(7)
_NOISE = _RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes()
_SENTENCE = "The quick brown fox jumps over the lazy dog.\n" * 20

UPLOADS = {
    "empty": (b"", ["empty"]),
    "only whitespace": (b" \n\t\r\n  ", ["empty"]),
    "random binary": (b"\x00" + _NOISE, ["binary"]),
    "high bytes, no NUL": (bytes(range(0x80, 0x100)) * 8, ["UTF-8"]),
    "PNG image": (b"\x89PNG\r\n\x1a\n" + _NOISE, ["PNG image", ".txt"]),
    "JPEG image": (b"\xff\xd8\xff\xe0\x00\x10JFIF" + _NOISE, ["JPEG image"]),
    "GIF image": (b"GIF89a" + _NOISE, ["GIF image"]),
    "zip archive": (zip_bytes(), ["ZIP archive"]),
    "PDF": (b"%PDF-1.7\n" + _NOISE, ["PDF"]),
    "gzip": (b"\x1f\x8b\x08\x00" + _NOISE, ["gzip"]),
    "program": (b"\x7fELF\x02\x01\x01" + _NOISE, ["program"]),
    "UTF-16 LE with BOM": (_SENTENCE.encode("utf-16"), ["UTF-16", "UTF-8"]),   # Python writes LE + BOM
    "UTF-16 BE with BOM": (b"\xfe\xff" + _SENTENCE.encode("utf-16-be"), ["UTF-16", "UTF-8"]),
    "UTF-16 LE without BOM": (_SENTENCE.encode("utf-16-le"), ["UTF-16", "UTF-8"]),
    "UTF-16 BE without BOM": (_SENTENCE.encode("utf-16-be"), ["UTF-16", "UTF-8"]),
    "UTF-16 LE without BOM, not ASCII": ("日本語のテキストです。" * 20).encode("utf-16-le"), 
    "Latin-1": ("Café au lait, naïve façade, Größe.\n" * 20).encode("latin-1"), 
    "Windows-1252 quotes": ("\u201cQuoted\u201d \u2013 text\n" * 20).encode("cp1252"),
    "control characters": (bytes(range(1, 9)) * 200, ["control characters"]),
}
UPLOADS["UTF-16 LE without BOM, not ASCII"] = (UPLOADS["UTF-16 LE without BOM, not ASCII"], ["not valid UTF-8"])
UPLOADS["Latin-1"] = (UPLOADS["Latin-1"], ["not valid UTF-8", "Latin-1", "re-save it as UTF-8"])
UPLOADS["Windows-1252 quotes"] = (UPLOADS["Windows-1252 quotes"], ["not valid UTF-8", "Windows-1252"])


@pytest.mark.parametrize("name", list(UPLOADS))
def test_bad_upload_is_refused_with_a_reason(existing, name):
    raw, words = UPLOADS[name]
    refused(existing, lambda: load_text(raw), TextError, *words)


def test_the_same_texts_saved_properly_are_accepted():
    assert load_text(_SENTENCE.encode("utf-8")) == _SENTENCE
    assert load_text(b"\xef\xbb\xbf" + "Café\r\nnaïve\r".encode("utf-8")) == "Café\nnaïve\n"


@pytest.mark.parametrize("content", ["ascii", "two-byte", "binary"])
def test_a_50_mb_file_fails_fast_naming_the_limit(existing, content):
    size = 50 * 1024 * 1024
    raw = {"ascii": b"a" * size, "two-byte": "é".encode() * (size // 2),
           "binary": np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes()}[content]
    refused(existing, lambda: load_text(raw), TextError, "limit", f"{limits.MAX_TEXT_CHARS:,} characters")


def test_just_over_the_character_limit(existing):
    raw = b"ab" * (limits.MAX_TEXT_CHARS // 2) + b"c"
    refused(existing, lambda: load_text(raw), TextError, f"{limits.MAX_TEXT_CHARS + 1:,} characters",
            f"limit is {limits.MAX_TEXT_CHARS:,}", "shorter")
    refused(existing, lambda: Trainer(raw.decode()), TextError, "limit")


# ---- texts that decode but cannot be trained on ---------------------------------------------

def test_one_repeated_character_has_nothing_to_predict(existing):
    text = load_text(b"a" * 1000)
    refused(existing, lambda: Trainer(text), TextError, "single distinct character", "nothing to predict",
            "at least two")


def test_5000_distinct_characters_names_the_limit(existing):
    text = load_text(("".join(chr(0x4E00 + i) for i in range(5000)) * 2).encode("utf-8"))
    refused(existing, lambda: Trainer(text), TextError, "5,000 distinct characters",
            f"limit is {limits.MAX_VOCAB}")
    refused(existing, lambda: Vocab.from_text(text), TextError, "5,000")


def test_a_text_shorter_than_one_window(existing):
    refused(existing, lambda: Trainer("abc", TrainConfig(seq_length=25)), TextError, "seq_length + 1 = 26",
            "longer text")


# ---- character labels ---------------------------------------------------------------------------

def test_labels_are_readable_for_every_kind_of_character():
    assert char_label(" ") == "␣ space" and char_label("\n") == "⏎ newline"
    assert char_label("\x00") == "U+0000" and char_label("\u200b") == "U+200B"
    assert char_label("é") == "é"
    assert os.sep not in "".join(char_label(chr(c)) for c in range(32))
