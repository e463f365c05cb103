"""Crafted files for the tests that must refuse them: any .npz, a zip, a real checkpoint edited, a pickle."""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from rnn_core import Trainer
from rnn_core.checkpoint import to_arrays


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)                              # savez pickles object arrays
    return buf.getvalue()


def rewritten(tr: Trainer, **changes) -> bytes:
    """A real checkpoint of `tr` with some arrays replaced (None: removed); `param__Wxh` stands for `param/Wxh`."""
    arrays = to_arrays(tr)
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return npz(**arrays)


def zip_bytes(text: str = "once upon a time " * 50) -> bytes:
    """A zip archive holding one text file: neither a text upload nor a checkpoint."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("story.txt", text)
    return buf.getvalue()


class Payload:
    """Unpickling this runs os.mkdir(marker): the proof that pickle executed code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))
