"""Every bad input a person can give the engine: a clear ValueError, and the current run untouched.

Each case asserts (1) the exception is a ValueError subclass, (2) the message holds the words a
person needs to act on, and (3) a trainer that existed before the failed action is bit for bit the
same afterwards (the app keeps showing the run the visitor already had).
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest

from rnn_core import CheckpointError, TextError, TrainConfig, Trainer, Vocab, char_label, limits, load_text
from rnn_core.checkpoint import load_trainer, to_arrays, to_bytes
from tests.helpers_reliability import PROSE, assert_same, small_trainer, snapshot


@pytest.fixture(scope="module")
def existing() -> Trainer:
    """The visitor's current run (shared read-only; each test checks it is unchanged)."""
    return small_trainer(40)


def refused(existing: Trainer, action, exc_type=ValueError, *words: str) -> str:
    """Run `action`; it must raise `exc_type` (a ValueError) naming `words`; `existing` must not change."""
    before = snapshot(existing)
    with pytest.raises(exc_type) as info:
        action()
    assert isinstance(info.value, ValueError), f"{type(info.value).__name__} is not a ValueError"
    message = str(info.value)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    assert "Traceback" not in message and len(message) < 600
    assert_same(before, snapshot(existing))
    return message


# ---- uploaded text files --------------------------------------------------------------------

def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("story.txt", "once upon a time " * 50)
    return buf.getvalue()


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
    "zip archive": (_zip_bytes(), ["ZIP archive"]),
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


# ---- extreme settings -----------------------------------------------------------------------

HUGE = 10**12
EXTREME_CONFIG = [
    ("hidden_size", 0, ["hidden_size", f"1 to {limits.MAX_HIDDEN}"]),
    ("hidden_size", -1, ["hidden_size", f"1 to {limits.MAX_HIDDEN}"]),
    ("hidden_size", limits.MAX_HIDDEN + 1, ["hidden_size", str(limits.MAX_HIDDEN)]),
    ("hidden_size", HUGE, ["hidden_size", str(limits.MAX_HIDDEN)]),
    ("hidden_size", 100.5, ["whole number"]),
    ("hidden_size", "100", ["whole number"]),
    ("hidden_size", True, ["whole number"]),
    ("seq_length", 0, ["seq_length", f"1 to {limits.MAX_SEQ_LENGTH}"]),
    ("seq_length", -25, ["seq_length"]),
    ("seq_length", HUGE, ["seq_length", str(limits.MAX_SEQ_LENGTH)]),
    ("learning_rate", 0, ["learning rate", "positive"]),
    ("learning_rate", -0.1, ["learning rate", "positive"]),
    ("learning_rate", math.inf, ["learning rate", "positive"]),
    ("learning_rate", math.nan, ["learning rate", "positive"]),
    ("learning_rate", "0.1", ["learning rate"]),
    ("clip", -1.0, ["clip", "0/None to turn clipping off"]),
    ("clip", math.inf, ["clip"]),
    ("clip", math.nan, ["clip"]),
    ("seed", -1, ["seed", ">= 0"]),
    ("seed", 1.5, ["seed", "whole number"]),
    ("optimizer", "rmsprop", ["optimizer", "adagrad"]),
    ("cell", "transformer", ["cell", "rnn"]),
    ("sample_every", -1, ["sample_every"]),
    ("val_fraction", 0.9, ["val_fraction"]),
    ("val_fraction", -0.1, ["val_fraction"]),
    ("val_fraction", math.nan, ["val_fraction"]),
]


@pytest.mark.parametrize("field,value,words", EXTREME_CONFIG, ids=lambda x: repr(x)[:20])
def test_extreme_setting_is_refused(existing, field, value, words):
    config = TrainConfig(**{field: value})
    refused(existing, config.validate, ValueError, *words)
    refused(existing, lambda: Trainer(PROSE, config), ValueError, *words)


@pytest.mark.parametrize("field,value,words", [row for row in EXTREME_CONFIG
                                               if row[0] in ("learning_rate", "clip", "optimizer")],
                         ids=lambda x: repr(x)[:20])
def test_extreme_live_change_leaves_the_run_as_it_was(existing, field, value, words):
    refused(existing, lambda: existing.apply_live(**{field: value}), ValueError, *words)
    if field == "learning_rate":
        def set_lr():
            existing.learning_rate = value
        refused(existing, set_lr, ValueError, *words)


def test_settings_that_need_a_reset_are_refused_mid_run(existing):
    refused(existing, lambda: existing.apply_live(hidden_size=32), ValueError, "hidden_size", "Reset")
    refused(existing, lambda: existing.step(-1), ValueError, "whole number")


def test_the_boundaries_themselves_are_accepted():
    TrainConfig(hidden_size=limits.MAX_HIDDEN, seq_length=limits.MAX_SEQ_LENGTH, learning_rate=1e-12,
                clip=0, seed=2**63, val_fraction=0.5).validate()
    TrainConfig(hidden_size=1, seq_length=1, clip=None).validate()
    tr = Trainer(PROSE, TrainConfig(hidden_size=1, seq_length=1))
    assert np.isfinite(tr.step(5)).all()


# ---- sampling -------------------------------------------------------------------------------

BAD_SAMPLES = [
    ({"length": 0}, ["sample length", "at least 1"]),
    ({"length": -5}, ["sample length", "at least 1"]),
    ({"length": limits.MAX_SAMPLE_LENGTH + 1}, [f"{limits.MAX_SAMPLE_LENGTH:,}"]),
    ({"length": HUGE}, [f"{limits.MAX_SAMPLE_LENGTH:,}"]),
    ({"length": 2.5}, ["whole number"]),
    ({"temperature": 0}, ["temperature", "above 0"]),
    ({"temperature": -1.0}, ["temperature", "above 0"]),
    ({"temperature": math.inf}, ["temperature", "above 0"]),
    ({"temperature": math.nan}, ["temperature", "above 0"]),
    ({"temperature": "hot"}, ["temperature"]),
    ({"top_k": 0}, ["top_k", "at least 1"]),
    ({"top_k": -3}, ["top_k", "at least 1"]),
    ({"top_k": 2.5}, ["top_k"]),
    ({"seed": -1}, ["seed", ">= 0"]),
    ({"seed": 1.5}, ["seed", "whole number"]),
    ({"seed_char": ""}, ["seed character"]),
    ({"seed_char": "€"}, ["'€'", "not in the vocabulary"]),
    ({"seed_char": "\x07"}, ["U+0007", "not in the vocabulary"]),
]


@pytest.mark.parametrize("kwargs,words", BAD_SAMPLES, ids=lambda x: repr(x)[:24])
def test_bad_sample_request(existing, kwargs, words):
    args = {"seed_char": "t", "length": 20, **kwargs}
    refused(existing, lambda: existing.sample(**args), ValueError, *words)


def test_extreme_but_valid_sample_requests(existing):
    before = snapshot(existing)
    greedy = existing.sample("t", 40, greedy=True)
    for tiny in (1e-3, 1e-100, 1e-300, 5e-324):            # a vanishing temperature is greedy, never nan
        assert existing.sample("t", 40, temperature=tiny, seed=1) == greedy
    assert existing.sample("t", 40, top_k=1, seed=3) == greedy
    hot = existing.sample("t", 200, temperature=1e300, seed=1)  # uniform over the vocabulary
    assert len(hot) == 200 and len(set(hot)) > 20
    assert len(existing.sample("t", limits.MAX_SAMPLE_LENGTH, top_k=existing.vocab.size + 50, seed=2)) == \
        limits.MAX_SAMPLE_LENGTH
    assert len(existing.sample("t", 1, seed=0)) == 1
    assert_same(before, snapshot(existing))                 # sampling never moves the run


# ---- probe text -----------------------------------------------------------------------------

def test_probe_with_characters_outside_the_vocabulary_names_them(existing):
    message = refused(existing, lambda: existing.probe("héllo wörld\x07"), ValueError,
                      "not in the model's vocabulary", "'é'", "'ö'", "U+0007")
    assert "'h'" not in message                              # only the missing ones are named


def test_probe_with_many_unknown_characters_lists_ten(existing):
    message = refused(existing, lambda: existing.probe("".join(chr(0x3041 + i) for i in range(30))),
                      ValueError, "not in the model's vocabulary")
    assert message.count("'ぁ'") == 1 and "'ぇ'" in message and "and 20 more" in message


def test_empty_and_oversized_probe(existing):
    refused(existing, lambda: existing.probe(""), ValueError, "empty")
    refused(existing, lambda: existing.probe("a" * (limits.MAX_TEXT_CHARS + 1)), ValueError, "limit")


# ---- checkpoints that are not ours ----------------------------------------------------------

def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _rewritten(tr: Trainer, **changes) -> bytes:
    """A real checkpoint of `tr` with some arrays replaced (None: removed)."""
    arrays = to_arrays(tr)
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return _npz(**arrays)


class Payload:
    """Unpickling this creates a file: proof that a loader ran code from the checkpoint."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_pickle_payload_is_live(tmp_path):
    marker = tmp_path / "sanity"
    with np.load(io.BytesIO(_npz(x=np.array([Payload(marker)], dtype=object))), allow_pickle=True) as z:
        z["x"]
    assert marker.exists()  # so the tests below would notice if the loader unpickled


@pytest.mark.parametrize("where", ["alone", "as config", "extra key"])
def test_pickled_objects_are_never_loaded(existing, tmp_path, where):
    marker = tmp_path / "pwned"
    evil = np.array([Payload(marker)], dtype=object)
    raw = {"alone": lambda: _npz(payload=evil),
           "as config": lambda: _rewritten(existing, config=evil),
           "extra key": lambda: _rewritten(existing, zzz=evil)}[where]()
    refused(existing, lambda: load_trainer(raw), CheckpointError, "pickled", "never loaded")
    assert not marker.exists()


def test_a_pickled_npy_file_is_not_a_checkpoint(existing, tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    np.save(buf, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    refused(existing, lambda: load_trainer(buf.getvalue()), CheckpointError, "not a checkpoint")
    assert not marker.exists()


def _zip_bomb(unpacked_mb: int) -> bytes:
    """A .npz whose one array of zeros inflates about a thousandfold."""
    buf = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (unpacked_mb * 2**17,)}
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("format.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            for _ in range(unpacked_mb):
                f.write(bytes(2**20))
    return buf.getvalue()


def test_a_zip_bomb_is_refused_before_unpacking(existing, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CHECKPOINT_MB", 4)   # the real cap is 256 MB; same code path, less waiting
    bomb = _zip_bomb(16)
    assert len(bomb) < 100_000
    refused(existing, lambda: load_trainer(bomb), CheckpointError, "would unpack to 16 MB", "limit is 4 MB")


def _lying_header() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        with z.open("format.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10**14,)})
            f.write(bytes(64))
    return buf.getvalue()


def _cfg(tr: Trainer, **changes) -> np.ndarray:
    return np.array(json.dumps({**json.loads(str(to_arrays(tr)["config"])), **changes}))


# name -> (build(trainer) -> bytes, words the message must hold)
FOREIGN = {
    "not a zip": (lambda tr: b"hello, I am a text file", ["not a checkpoint"]),
    "empty file": (lambda tr: b"", ["not a checkpoint"]),
    "someone else's npz": (lambda tr: _npz(weights=np.ones((3, 3)), bias=np.zeros(3)), ["not saved by the playground"]),
    "a zip of text files": (lambda tr: _zip_bytes(), ["not saved by the playground"]),
    "truncated": (lambda tr: to_bytes(tr)[: len(to_bytes(tr)) // 2], ["damaged"]),
    "future format": (lambda tr: _rewritten(tr, format=np.array("char-rnn-playground/99")), ["format tag"]),
    "missing params": (lambda tr: _rewritten(tr, param__Wxh=None), ["parameter names"]),
    "Wxh one column too many": (lambda tr: _rewritten(tr, param__Wxh=np.zeros((16, tr.vocab.size + 1))),
                                ["'Wxh'", "vocabulary and settings need (16, "]),
    "Why for another vocabulary": (lambda tr: _rewritten(tr, param__Why=np.zeros((tr.vocab.size - 3, 16))),
                                   ["'Why'", "shape"]),
    "vocabulary grew, params did not": (lambda tr: _rewritten(tr, vocab=np.append(to_arrays(tr)["vocab"], 0x10FFFF)),
                                        ["vocabulary", "text"]),
    "vocabulary shrank under the text": (lambda tr: _rewritten(tr, vocab=to_arrays(tr)["vocab"][:-5]),
                                         ["text", "vocabulary"]),
    "unsorted vocabulary": (lambda tr: _rewritten(tr, vocab=to_arrays(tr)["vocab"][::-1].copy()), ["sorted"]),
    "optimizer state shape": (lambda tr: _rewritten(tr, optim__mem=np.zeros(7)), ["optimizer state", "shape"]),
    "nan parameters": (lambda tr: _rewritten(tr, param__Whh=np.full((16, 16), np.nan)), ["'Whh'", "finite"]),
    "integer parameters": (lambda tr: _rewritten(tr, param__bh=np.zeros(16, dtype=np.int64)), ["'bh'", "finite"]),
    "hidden state shape": (lambda tr: _rewritten(tr, state=np.zeros(17)), ["hidden state", "shape"]),
    "negative counters": (lambda tr: _rewritten(tr, counters=np.array([-1, 0, 0])), ["counters"]),
    "nan smooth loss": (lambda tr: _rewritten(tr, smooth_loss=np.array(np.nan)), ["smoothed loss", "finite"]),
    "history that does not fit": (lambda tr: _rewritten(tr, history_loss=np.zeros(3)), ["history"]),
    "samples that do not fit": (lambda tr: _rewritten(tr, sample_its=np.arange(99)), ["samples"]),
    "config not JSON": (lambda tr: _rewritten(tr, config=np.array("{hidden")), ["damaged"]),
    "unknown setting": (lambda tr: _rewritten(tr, config=_cfg(tr, turbo=True)), ["settings"]),
    "huge hidden size": (lambda tr: _rewritten(tr, config=_cfg(tr, hidden_size=10**9)),
                         ["hidden_size", str(limits.MAX_HIDDEN)]),
    "array header claiming 800 TB": (lambda tr: _lying_header(), ["far larger"]),
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_foreign_checkpoint_is_refused(existing, name):
    build, words = FOREIGN[name]
    raw = build(existing)
    refused(existing, lambda: load_trainer(raw), CheckpointError, *words)
    refused(existing, lambda: load_trainer(io.BytesIO(raw)), CheckpointError, *words)


def test_an_unmodified_checkpoint_loads(existing, tmp_path):
    assert_same(snapshot(load_trainer(to_bytes(existing))), snapshot(existing))
    path = tmp_path / "run.npz"
    existing.save(path)
    assert_same(snapshot(Trainer.load(path)), snapshot(existing))


def test_a_missing_or_unreadable_checkpoint_path(existing, tmp_path):
    refused(existing, lambda: load_trainer(tmp_path / "nope.npz"), CheckpointError, "cannot read")
    refused(existing, lambda: load_trainer(tmp_path), CheckpointError, "cannot read")


def test_labels_are_readable_for_every_kind_of_character():
    assert char_label(" ") == "␣ space" and char_label("\n") == "⏎ newline"
    assert char_label("\x00") == "U+0000" and char_label("\u200b") == "U+200B"
    assert char_label("é") == "é"
    assert os.sep not in "".join(char_label(chr(c)) for c in range(32))
