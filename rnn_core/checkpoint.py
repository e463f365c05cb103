"""Saving and loading a whole run as one `.npz` file.

The file holds plain arrays only (loaded with allow_pickle=False, so a crafted file
cannot run code): config as JSON text, the vocabulary as code points, the training
text as ids, parameters, optimizer state, data pointer, carried state (B, S), iteration,
smooth loss, loss history and recorded samples. Loading checks every key, shape
and value before anything is handed back; saving to a path is atomic (temporary
file in the same folder, then rename), so an interrupted save never damages the
previous checkpoint.
"""
from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from . import limits
from .history import LossHistory
from .text import Vocab

FORMAT = "char-rnn-playground/1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded; the message is meant for a person."""


def to_arrays(tr) -> dict[str, np.ndarray]:
    arrays = {
        "format": np.array(FORMAT),
        "config": np.array(json.dumps(asdict(tr.config))),
        "vocab": np.array([ord(c) for c in tr.vocab.chars], dtype=np.int64),
        "data": np.concatenate([tr.data, tr.val_data]).astype(np.uint16),  # the whole text; load splits it again
        "counters": np.array([tr.iteration, tr.pointer, tr.optimizer.t], dtype=np.int64),
        "smooth_loss": np.array(tr.smooth_loss),
        "state": tr.state,
        "sample_its": np.array([i for i, _ in tr.samples], dtype=np.int64),
        "sample_texts": np.array([s for _, s in tr.samples], dtype=str),
    }
    arrays.update({f"param/{k}": v for k, v in tr.model.params.items()})
    arrays.update({f"optim/{k}": v for k, v in tr.optimizer.state.items()})
    arrays.update(tr.history.state())
    return arrays


def to_bytes(tr, *, compress: bool = True) -> bytes:
    """The .npz file as bytes. compress=False is ~100x faster and ~2x bigger (the run store's autosave)."""
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **to_arrays(tr))
    return buf.getvalue()


def save_trainer(tr, path, *, compress: bool = True) -> None:
    """Write atomically: a crash mid-save leaves any previous file at `path` intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, to_bytes(tr, compress=compress))


def atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_trainer(source):
    """Load from a path, bytes or a binary file object. Raises CheckpointError."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read()
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as err:
            raise CheckpointError(f"Cannot read the checkpoint {source}: {err.strerror or err}.") from None
    if not raw.startswith(b"PK\x03\x04"):
        raise CheckpointError("This is not a checkpoint saved by the playground (a .npz file is a ZIP archive; this is not).")
    _check_unpacked_size(raw)
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as err:
        if "pickle" in str(err) or "Object arrays" in str(err):
            raise CheckpointError("The checkpoint contains pickled Python objects, which are never loaded (they could run code).") from None
        raise CheckpointError(f"The checkpoint cannot be read: {err}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise CheckpointError(f"The checkpoint is damaged or not a .npz file ({err}).") from None
    except MemoryError:  # an array header that claims more than the machine has
        raise CheckpointError("The checkpoint declares arrays far larger than any saved run; it is damaged or not ours.") from None
    try:
        return _from_arrays(arrays)
    except CheckpointError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as err:
        raise CheckpointError(f"The checkpoint is damaged or not ours: {err}") from None


def _check_unpacked_size(raw: bytes) -> None:
    """Refuse before unpacking anything a file that would inflate past the cap (a 1 MB zip can hold 1 GB of zeros)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise CheckpointError(f"The checkpoint is damaged or not a .npz file ({err}).") from None
    if unpacked > limits.MAX_CHECKPOINT_MB * 2**20:
        raise CheckpointError(
            f"The checkpoint would unpack to {unpacked / 2**20:,.0f} MB; the limit is {limits.MAX_CHECKPOINT_MB} MB, "
            "far above any run the playground saves. It is not one of ours."
        )


def _from_arrays(a: dict[str, np.ndarray]):
    from .trainer import TrainConfig, Trainer

    if "format" not in a or str(a["format"]) != FORMAT:
        raise CheckpointError("This .npz was not saved by the playground (its format tag is missing or different).")
    for key in ("config", "vocab", "data", "counters", "smooth_loss", "state", "sample_its", "sample_texts"):
        if key not in a:
            raise CheckpointError(f"The checkpoint lacks '{key}'.")
    raw_cfg = json.loads(str(a["config"]))
    known = {f.name for f in fields(TrainConfig)}
    if not isinstance(raw_cfg, dict) or set(raw_cfg) - known:
        raise CheckpointError("The checkpoint's settings are not ones this version knows.")
    config = TrainConfig(**raw_cfg)
    codes = a["vocab"]
    if codes.ndim != 1 or codes.dtype.kind not in "iu" or np.any(codes < 0) or np.any(codes > 0x10FFFF):
        raise CheckpointError("The checkpoint's vocabulary is not a list of characters.")
    vocab = Vocab.from_chars(chr(int(c)) for c in codes)
    data = a["data"]
    if data.ndim != 1 or data.dtype.kind not in "iu" or data.size == 0 or int(data.max()) >= vocab.size:
        raise CheckpointError("The checkpoint's text does not match its vocabulary.")
    text = vocab.decode(data)
    tr = Trainer(text, config)  # validates config and text exactly as a new run would
    if tr.vocab.chars != vocab.chars:
        raise CheckpointError("The checkpoint's vocabulary does not match its text.")
    _fill(tr.model.params, a, "param/", "parameter")
    _fill(tr.optimizer.state, a, "optim/", "optimizer state")
    state = a["state"]
    if state.ndim == 1 and config.batch_size == 1:  # saved before batches existed: one (S,) state
        state = state[None]
    if state.shape != tr.state.shape or not np.all(np.isfinite(state)):
        raise CheckpointError(f"The checkpoint's hidden state has shape {state.shape}, expected {tr.state.shape}.")
    counters = a["counters"]
    if counters.shape != (3,) or np.any(counters < 0):
        raise CheckpointError("The checkpoint's counters are damaged.")
    tr.iteration, tr.pointer, tr.optimizer.t = (int(c) for c in counters)
    tr.state = state.astype(float)
    tr.smooth_loss = float(a["smooth_loss"])
    if not math.isfinite(tr.smooth_loss):
        raise CheckpointError("The checkpoint's smoothed loss is not a finite number.")
    tr.history = LossHistory.from_state(a)
    its, texts = a["sample_its"], a["sample_texts"]
    if its.shape != texts.shape:
        raise CheckpointError("The checkpoint's recorded samples are damaged.")
    tr.samples = [(int(i), str(s)) for i, s in zip(its, texts)]
    return tr


def _fill(target: dict[str, np.ndarray], a, prefix: str, what: str) -> None:
    """Copy a[prefix + name] into each target array, after checking names, shapes and values."""
    given = {k[len(prefix):] for k in a if k.startswith(prefix)}
    if given != set(target):
        raise CheckpointError(f"The checkpoint's {what} names {sorted(given)} do not match a {sorted(target)} model.")
    for k, dest in target.items():
        v = a[prefix + k]
        if v.shape != dest.shape:
            raise CheckpointError(f"The checkpoint's {what} '{k}' has shape {v.shape}, but its vocabulary and settings need {dest.shape}.")
        if v.dtype.kind != "f" or not np.all(np.isfinite(v)):
            raise CheckpointError(f"The checkpoint's {what} '{k}' is not all finite numbers.")
        dest[...] = v
