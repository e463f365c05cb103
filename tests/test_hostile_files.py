"""Issue 14's attacks, one test each: refused with a sentence, cheaply, before the work the file asks for.

Each checkpoint is built by tests/helpers_attacks.py from a real run. Every refusal must be a
CheckpointError (a ValueError) naming the limit, peak traced memory far below what the file
declares, and (where the file declares a big array) almost nothing decompressed.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_core import CheckpointError, TextError, TrainConfig, Trainer, limits, load_text
from rnn_core.checkpoint import load_trainer, to_arrays
from tests.helpers_attacks import Zeros, cost, crafted
from tests.helpers_reliability import small_trainer

MB = 2**20


@pytest.fixture(scope="module")
def run() -> Trainer:
    return small_trainer(60)


def _refused(raw: bytes, monkeypatch, *words, peak_mb: float = 5, unpacked_mb: float = 1) -> str:
    c = cost(lambda: load_trainer(raw), monkeypatch)
    assert isinstance(c.error, CheckpointError), f"{type(c.error).__name__}: {str(c.error)[:300]}"
    message = str(c.error)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    assert "Traceback" not in message and len(message) < 600
    assert c.peak_bytes < peak_mb * MB, f"peak {c.peak_bytes / MB:.1f} MB"
    assert c.unpacked_bytes < unpacked_mb * MB, f"unpacked {c.unpacked_bytes / MB:.1f} MB"
    return message


def test_deeply_nested_settings_json(run, monkeypatch):
    # 4,011 characters (within the size cap), nested 2,001 deep: json.loads alone would raise RecursionError.
    cfg = '{"cell": ' + "[" * 2000 + "]" * 2000 + "}"
    raw = crafted(run, config=np.array(cfg))
    _refused(raw, monkeypatch, "settings nest 2,001 levels", f"limit is {limits.MAX_CONFIG_JSON_DEPTH}")


def test_oversized_settings_json(run, monkeypatch):
    raw = crafted(run, config=np.array('{"cell": "' + "x" * 100_000 + '"}'))
    _refused(raw, monkeypatch, "100,012 characters", f"{limits.MAX_CONFIG_JSON_CHARS:,}")


@pytest.mark.parametrize("cap", [2**40, 10**9])
def test_history_cap_far_above_the_limit(run, monkeypatch, cap):
    meta = to_arrays(run)["history_meta"].copy()
    meta[0] = cap
    raw = crafted(run, history_meta=meta)
    _refused(raw, monkeypatch, f"history cap is {cap:,} rows", f"limit is {limits.MAX_HISTORY_ROWS:,}")


def test_text_of_125_million_ids_in_a_small_file(run, monkeypatch):
    n = 125_829_120                                   # 251.7 MB of uint16: just under the unpacked cap
    raw = crafted(run, data=Zeros("<u2", (n,)))
    assert len(raw) < 1 * MB and n * 2 < limits.MAX_CHECKPOINT_MB * MB
    _refused(raw, monkeypatch, f"text has {n:,} characters", f"limit is {limits.MAX_TEXT_CHARS:,}")


def test_one_recorded_sample_of_60_million_characters(run, monkeypatch):
    raw = crafted(run, sample_its=np.array([100]), sample_texts=Zeros("<U60000000", (1,)))
    assert len(raw) < 1 * MB
    _refused(raw, monkeypatch, "60,000,000 characters", f"limit is {limits.MAX_RECORDED_SAMPLE_CHARS:,}")


def test_a_hundred_thousand_recorded_samples(run, monkeypatch):
    raw = crafted(run, sample_its=np.arange(100_000), sample_texts=Zeros("<U201", (100_000,)))
    _refused(raw, monkeypatch, "records 100,000 samples", f"limit is {limits.MAX_RECORDED_SAMPLES}")


def test_a_lone_surrogate_in_a_checkpoints_vocabulary(run, monkeypatch):
    vocab = to_arrays(run)["vocab"].copy()
    vocab[-1] = 0xD800                                 # still sorted: every other code point is below it
    raw = crafted(run, vocab=vocab)
    _refused(raw, monkeypatch, "U+D800", "surrogate")


def test_a_lone_surrogate_in_a_recorded_sample(run, monkeypatch):
    texts = np.array(["ab\ud800c"])
    raw = crafted(run, sample_its=np.array([100]), sample_texts=texts)
    _refused(raw, monkeypatch, "surrogate")


def test_a_state_array_far_larger_than_the_settings_need(run, monkeypatch):
    raw = crafted(run, state=Zeros("<f8", (16, 2**20)))  # 128 MB of "state"
    _refused(raw, monkeypatch, "hidden state has shape (16, 1048576)", "expected (1, 16)")


def test_a_legitimate_run_still_loads_and_its_sample_texts_survive(run):
    back = load_trainer(crafted(run))
    assert back.samples == run.samples and back.text == run.text and back.iteration == 60
    assert json.loads(str(to_arrays(back)["config"])) == json.loads(str(to_arrays(run)["config"]))


# ---- lone surrogates in texts ------------------------------------------------------------------

def test_trainer_refuses_a_text_with_a_lone_surrogate():
    with pytest.raises(TextError, match=r"U\+D800.*surrogate"):
        Trainer("hello world, hello again " * 4 + "\ud800", TrainConfig(seq_length=10))


def test_load_text_names_an_encoded_surrogate():
    with pytest.raises(TextError, match="lone surrogate") as info:
        load_text(b"hello world " * 10 + b"\xed\xa0\x80 and more")
    assert "offset 120" in str(info.value)


# ---- engine nits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [True, False, -1, 2.0, "3", None, np.bool_(True)])
def test_step_refuses_what_is_not_a_count(n):
    tr = small_trainer()
    with pytest.raises(ValueError, match="whole number >= 0"):
        tr.step(n)
    assert tr.iteration == 0 and len(tr.history) == 0


@pytest.mark.parametrize("kwargs, words", [
    ({"temperature": True}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_k": True}, "top_k"),
    ({"length": True}, "sample length"),
    ({"state": np.full(16, np.nan)}, "NaN or infinite"),
    ({"state": np.full(16, np.inf)}, "NaN or infinite"),
    ({"state": np.zeros((1, 16))}, "shape (16,)"),
    ({"state": np.array(["x"] * 16)}, "hold numbers"),
])
def test_sample_refuses_odd_arguments(run, kwargs, words):
    args = {"seed_char": "t", "length": 10, **kwargs}
    with pytest.raises(ValueError) as info:
        run.sample(**args)
    assert words.lower() in str(info.value).lower()


def test_sample_from_a_given_finite_state_still_works(run):
    state = np.tanh(np.linspace(-1, 1, run.model.state_size))
    assert run.sample("t", 30, seed=1, state=state) == run.sample("t", 30, seed=1, state=list(state))
