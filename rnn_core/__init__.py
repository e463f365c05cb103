"""rnn_core: a numpy character-level RNN trainer (min-char-rnn, exactly, and fast).

    from rnn_core import TrainConfig, Trainer, load_text
    tr = Trainer(text, TrainConfig())
    losses = tr.step(100)
    print(tr.sample("a", 200))

Imports numpy only; the playground's page and charts live elsewhere.
"""
from .checkpoint import CheckpointError
from .model import Model, softmax
from .optim import DivergenceError
from .text import TextError, Vocab, char_label, load_text
from .trainer import LIVE_FIELDS, Probe, TrainConfig, Trainer

__all__ = [
    "CheckpointError", "DivergenceError", "LIVE_FIELDS", "Model", "Probe", "TextError",
    "TrainConfig", "Trainer", "Vocab", "char_label", "load_text", "softmax",
]
