"""Bad settings and requests a person can give the engine: extreme settings, sample requests, probe text.

Each case goes through `refused` (tests/helpers_reliability.py): a clear ValueError, the run untouched.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer, limits
from tests.helpers_reliability import PROSE, assert_same, refused, small_trainer, snapshot


@pytest.fixture(scope="module")
def existing() -> Trainer:
    """The visitor's current run (shared read-only; each test checks it is unchanged)."""
    return small_trainer(40)


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
