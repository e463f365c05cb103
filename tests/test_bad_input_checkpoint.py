"""Checkpoints that are not ours: foreign, damaged, pickled or oversized files are refused.

Each case goes through `refused` (tests/helpers_reliability.py): a clear ValueError, the run untouched.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from rnn_core import CheckpointError, Trainer, limits
from rnn_core.checkpoint import load_trainer, to_arrays, to_bytes
from tests.helpers_files import Payload, npz, rewritten, zip_bytes
from tests.helpers_reliability import assert_same, refused, small_trainer, snapshot


@pytest.fixture(scope="module")
def existing() -> Trainer:
    """The visitor's current run (shared read-only; each test checks it is unchanged)."""
    return small_trainer(40)


# ---- checkpoints that are not ours ----------------------------------------------------------

def test_the_pickle_payload_is_live(tmp_path):
    marker = tmp_path / "sanity"
    with np.load(io.BytesIO(npz(x=np.array([Payload(marker)], dtype=object))), allow_pickle=True) as z:
        z["x"]
    assert marker.exists()  # so the tests below would notice if the loader unpickled


@pytest.mark.parametrize("where", ["alone", "as config", "extra key"])
def test_pickled_objects_are_never_loaded(existing, tmp_path, where):
    marker = tmp_path / "pwned"
    evil = np.array([Payload(marker)], dtype=object)
    raw = {"alone": lambda: npz(payload=evil),
           "as config": lambda: rewritten(existing, config=evil),
           "extra key": lambda: rewritten(existing, zzz=evil)}[where]()
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
    "someone else's npz": (lambda tr: npz(weights=np.ones((3, 3)), bias=np.zeros(3)), ["not saved by the playground"]),
    "a zip of text files": (lambda tr: zip_bytes(), ["not saved by the playground"]),
    "truncated": (lambda tr: to_bytes(tr)[: len(to_bytes(tr)) // 2], ["damaged"]),
    "future format": (lambda tr: rewritten(tr, format=np.array("char-rnn-playground/99")), ["format tag"]),
    "missing params": (lambda tr: rewritten(tr, param__Wxh=None), ["parameter names"]),
    "Wxh one column too many": (lambda tr: rewritten(tr, param__Wxh=np.zeros((16, tr.vocab.size + 1))),
                                ["'Wxh'", "vocabulary and settings need (16, "]),
    "Why for another vocabulary": (lambda tr: rewritten(tr, param__Why=np.zeros((tr.vocab.size - 3, 16))),
                                   ["'Why'", "shape"]),
    "vocabulary grew, params did not": (lambda tr: rewritten(tr, vocab=np.append(to_arrays(tr)["vocab"], 0x10FFFF)),
                                        ["vocabulary", "text"]),
    "vocabulary shrank under the text": (lambda tr: rewritten(tr, vocab=to_arrays(tr)["vocab"][:-5]),
                                         ["text", "vocabulary"]),
    "unsorted vocabulary": (lambda tr: rewritten(tr, vocab=to_arrays(tr)["vocab"][::-1].copy()), ["sorted"]),
    "optimizer state shape": (lambda tr: rewritten(tr, optim__mem=np.zeros(7)), ["optimizer state", "shape"]),
    "nan parameters": (lambda tr: rewritten(tr, param__Whh=np.full((16, 16), np.nan)), ["'Whh'", "finite"]),
    "integer parameters": (lambda tr: rewritten(tr, param__bh=np.zeros(16, dtype=np.int64)), ["'bh'", "finite"]),
    "hidden state shape": (lambda tr: rewritten(tr, state=np.zeros(17)), ["hidden state", "shape"]),
    "negative counters": (lambda tr: rewritten(tr, counters=np.array([-1, 0, 0])), ["counters"]),
    "nan smooth loss": (lambda tr: rewritten(tr, smooth_loss=np.array(np.nan)), ["smoothed loss", "finite"]),
    "history that does not fit": (lambda tr: rewritten(tr, history_loss=np.zeros(3)), ["history"]),
    "samples that do not fit": (lambda tr: rewritten(tr, sample_its=np.arange(99)), ["samples"]),
    "config not JSON": (lambda tr: rewritten(tr, config=np.array("{hidden")), ["damaged"]),
    "unknown setting": (lambda tr: rewritten(tr, config=_cfg(tr, turbo=True)), ["settings"]),
    "huge hidden size": (lambda tr: rewritten(tr, config=_cfg(tr, hidden_size=10**9)),
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
