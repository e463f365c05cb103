"""Named training settings, as data: each a dict of TrainConfig fields plus a one-line description.

    MIN_CHAR_RNN   Karpathy's min-char-rnn exactly: one stream, Adagrad at 0.1, clip 5
                   (these are TrainConfig()'s own defaults; the exactness tests rely on that)
    FAST           the settings that reached the lowest held-out loss in the first 30 s of training
                   on real English text (bench/bench_learning.py; figures in the README)

    TrainConfig(**preset_fields(FAST), hidden_size=...)   # the description is not a field
"""
from __future__ import annotations

MIN_CHAR_RNN = {
    "description": "min-char-rnn, exactly: one stream, Adagrad, learning rate 0.1, clip 5",
    "batch_size": 1, "learning_rate": 0.1, "optimizer": "adagrad", "clip": 5.0,
}

FAST = {
    "description": "learns fast: 32 streams per update, Adagrad, learning rate 0.05, clip 5",
    "batch_size": 32, "learning_rate": 0.05, "optimizer": "adagrad", "clip": 5.0,
}

PRESETS = {"min-char-rnn": MIN_CHAR_RNN, "fast": FAST}


def preset_fields(preset: dict) -> dict:
    """The TrainConfig fields of a preset (everything but its description)."""
    return {k: v for k, v in preset.items() if k != "description"}
