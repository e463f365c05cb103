"""Saving and loading a whole run as one `.npz` file.

The file holds plain arrays only (loaded with allow_pickle=False, so a crafted file
cannot run code): config as JSON text, the vocabulary as code points, the training
text as ids, parameters, optimizer state, data pointer, carried state, iteration,
smooth loss, loss history and recorded samples. Loading checks every size against
rnn_core.limits before any work proportional to it, then every key, shape and value
(rnn_core.checkpoint_io); saving to a path is atomic (temporary file in the same
folder, then rename), so an interrupted save never damages the previous checkpoint.

Imports point one way: checkpoint -> trainer -> checkpoint_io (the format itself).
"""
from __future__ import annotations

from . import checkpoint_io
from .checkpoint_io import FORMAT, CheckpointError, atomic_write, save_trainer, state_shape, to_arrays, to_bytes
from .trainer import TrainConfig, Trainer


def load_trainer(source) -> Trainer:
    """Load from a path, bytes or a binary file object. Raises CheckpointError (a ValueError), whatever the file."""
    return checkpoint_io.load(source, Trainer, TrainConfig)


__all__ = ["FORMAT", "CheckpointError", "atomic_write", "load_trainer", "save_trainer", "state_shape", "to_arrays",
           "to_bytes"]
