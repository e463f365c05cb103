"""The checkpoint file format: writing it, and reading it as if every file were hostile.

A checkpoint is an .npz (a ZIP of .npy arrays). Reading follows one rule: nothing is
decoded, allocated or looped over in proportion to a size the file declares until that
size has been checked against rnn_core.limits. So the order is
  1. the raw size, then the ZIP's end record (entry count, directory size) before zipfile
     parses the directory, then the unpacked total;
  2. every array's .npy header (dtype, shape, declared bytes == stored bytes) without
     reading any array data; object arrays (pickles) are refused here;
  3. the small arrays (format tag, settings, vocabulary, counters, state, history, samples),
     each checked as soon as it is read;
  4. only then the text ids, which are decoded in one vectorized pass, the trainer is built
     and the parameters are read, one array at a time.
Anything Python raises on the way (RecursionError, MemoryError, zipfile errors, ...) becomes a
CheckpointError with a sentence, never a traceback.

This module never imports the trainer: `load` is handed the Trainer and TrainConfig classes
(rnn_core.checkpoint wires them), so trainer.py can use it without an import loop.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import tempfile
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from . import limits
from .cells import make_cell
from .history import LossHistory
from .text import TextError, Vocab

FORMAT = "char-rnn-playground/1"
MAX_ENTRIES = 128              # arrays in one checkpoint (a real one has at most ~30)
MAX_DIRECTORY_BYTES = 64 * 1024  # the ZIP's central directory (a real one: ~3 KB)
_MAX_HEADER = 10_000           # bytes of one .npy header (numpy's own safe default)
_SURROGATES = (0xD800, 0xDFFF)  # code points UTF-8 cannot hold
REQUIRED = ("config", "vocab", "data", "counters", "smooth_loss", "state", "sample_its", "sample_texts",
            "history_it", "history_loss", "history_smooth", "history_meta")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded; the message is meant for a person."""


def state_shape(config, state_size: int) -> tuple[int, ...]:
    """The carried state's shape for these settings: the one place a checkpoint's state is judged by."""
    return (config.batch_size, state_size)


# ---- writing ---------------------------------------------------------------------------------
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


# ---- reading ---------------------------------------------------------------------------------
def load(source, trainer_cls, config_cls):
    """A trainer from a path, bytes or a binary file object. Raises CheckpointError, whatever the file."""
    try:
        return _load(source, trainer_cls, config_cls)
    except CheckpointError:
        raise
    except MemoryError:
        raise CheckpointError("The checkpoint declares arrays far larger than any saved run; it is damaged or not ours.") from None
    except RecursionError:
        raise CheckpointError("The checkpoint's structure is nested too deeply to be one of ours; it is damaged.") from None
    except Exception as err:  # noqa: BLE001  whatever a crafted file provokes: a sentence, never a traceback
        raise CheckpointError(f"The checkpoint is damaged or not ours ({type(err).__name__}: {str(err)[:200]}).") from None


def _cap_bytes() -> int:
    return limits.MAX_CHECKPOINT_MB * 2**20


def _raw(source) -> bytes:
    cap = _cap_bytes() + 2**20  # a stored ZIP is its contents plus a few hundred bytes per array
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source) if len(source) <= cap else None
    elif hasattr(source, "read"):
        raw = source.read(cap + 1)
        raw = raw if len(raw) <= cap else None
    else:
        try:
            path = Path(source)
            raw = path.read_bytes() if path.stat().st_size <= cap else None
        except OSError as err:
            raise CheckpointError(f"Cannot read the checkpoint {source}: {err.strerror or err}.") from None
    if raw is None:
        raise CheckpointError(f"The checkpoint file is larger than {limits.MAX_CHECKPOINT_MB} MB, far above any run "
                              "the playground saves. It is not one of ours.")
    return raw


def _open_zip(raw: bytes) -> zipfile.ZipFile:
    """The archive, after checking the end record's counts so zipfile never parses a huge directory."""
    if not raw.startswith(b"PK\x03\x04"):
        raise CheckpointError("This is not a checkpoint saved by the playground (a .npz file is a ZIP archive; this is not).")
    # The same search zipfile makes: the record with no comment at the very end, else the last signature.
    end = len(raw) - 22 if raw[-22:-18] == b"PK\x05\x06" else raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))
    if end < 0 or end + 22 > len(raw):
        raise CheckpointError("The checkpoint is damaged or not a .npz file (its ZIP directory is missing; truncated?).")
    entries, dir_size = struct.unpack("<xxxxxxxxxxHI", raw[end : end + 16])
    if raw[max(0, end - 20) : end].startswith(b"PK\x06\x07") or entries > MAX_ENTRIES or dir_size > MAX_DIRECTORY_BYTES:
        raise CheckpointError(f"The checkpoint's archive lists {entries:,} entries in a {dir_size:,}-byte directory; "
                              f"a saved run has at most {MAX_ENTRIES}. It is not one of ours.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error) as err:
        raise CheckpointError(f"The checkpoint is damaged or not a .npz file ({err}).") from None
    unpacked = sum(info.file_size for info in infos)
    if unpacked > _cap_bytes():
        raise CheckpointError(
            f"The checkpoint would unpack to {unpacked / 2**20:,.0f} MB; the limit is {limits.MAX_CHECKPOINT_MB} MB, "
            "far above any run the playground saves. It is not one of ours.")
    if len({i.filename for i in infos}) != len(infos):
        raise CheckpointError("The checkpoint's archive names one array twice; it is damaged or not ours.")
    return zf


class _Archive:
    """The .npy headers of every member, read once; arrays are read only on request."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf, self.headers = zf, {}
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue  # np.load ignores these too
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = reader(f, max_header_size=_MAX_HEADER)
                header_len = f.tell()
            key = info.filename[:-4]
            if dtype.hasobject:
                raise CheckpointError("The checkpoint contains pickled Python objects, which are never loaded (they could run code).")
            declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, however large the shape
            if declared != info.file_size - header_len:
                size = "far larger than" if declared > info.file_size else "different from"
                raise CheckpointError(f"The checkpoint's array '{key[:40]}' declares {declared:,} bytes, {size} the "
                                      f"{info.file_size - header_len:,} it holds; it is damaged or not ours.")
            if dtype.fields is not None or dtype.subdtype is not None:
                raise CheckpointError(f"The checkpoint's array '{key[:40]}' has a structured type; it is not ours.")
            self.headers[key] = (tuple(shape), dtype)

    def __contains__(self, key) -> bool:
        return key in self.headers

    def check(self, key: str, what: str, kinds: str, ndim: int | None = None, max_len: int | None = None,
              too_long: str = "") -> tuple[tuple[int, ...], np.dtype]:
        """Refuse a wrong dtype, dimension count or length from the header alone."""
        shape, dtype = self.headers[key]
        if dtype.kind not in kinds or (ndim is not None and len(shape) != ndim):
            raise CheckpointError(f"The checkpoint's {what} has type {dtype.str} and shape {shape}; it is damaged or not ours.")
        if max_len is not None and shape and shape[0] > max_len:
            raise CheckpointError(too_long.format(n=shape[0], cap=max_len))
        return shape, dtype

    def read(self, key: str) -> np.ndarray:
        with self.zf.open(key + ".npy") as f:
            return np.lib.format.read_array(f, allow_pickle=False, max_header_size=_MAX_HEADER)


def _load(source, trainer_cls, config_cls):
    a = _Archive(_open_zip(_raw(source)))
    if "format" not in a or a.headers["format"][1].kind != "U" or a.headers["format"][0] != () \
            or a.headers["format"][1].itemsize > 4 * 64 or str(a.read("format")) != FORMAT:
        raise CheckpointError("This .npz was not saved by the playground (its format tag is missing or different).")
    for key in REQUIRED:
        if key not in a:
            raise CheckpointError(f"The checkpoint lacks '{key}'.")
    _check_headers(a)
    config = _config(a, config_cls)
    vocab = _vocab(a)
    want = state_shape(config, make_cell(config.cell).state_size(config.hidden_size))
    saved = a.headers["state"][0]
    if saved != want and not (config.batch_size == 1 and saved == want[1:]):  # B=1 files from before batches: (S,)
        raise CheckpointError(f"The checkpoint's hidden state has shape {saved}, expected {want}.")
    state = a.read("state").reshape(want)
    if not np.all(np.isfinite(state)):
        raise CheckpointError("The checkpoint's hidden state is not all finite numbers.")
    counters = a.read("counters")
    if np.any(counters < 0):
        raise CheckpointError("The checkpoint's counters are damaged.")
    smooth_loss = float(a.read("smooth_loss"))
    if not math.isfinite(smooth_loss):
        raise CheckpointError("The checkpoint's smoothed loss is not a finite number.")
    history = _history(a)
    samples = _samples(a)
    text = _text(a, vocab)
    try:
        tr = trainer_cls(text, config)  # validates settings and text exactly as a new run would
    except ValueError as err:
        raise CheckpointError(f"The checkpoint's text cannot be trained on with its settings: {err}") from None
    if tr.vocab.chars != vocab.chars:
        raise CheckpointError("The checkpoint's vocabulary does not match its text.")
    _fill(tr.model.params, a, "param/", "parameter")
    _fill(tr.optimizer.state, a, "optim/", "optimizer state")
    tr.iteration, tr.pointer, tr.optimizer.t = (int(c) for c in counters)
    tr.state = state.astype(float)
    tr.smooth_loss = smooth_loss
    tr.history = history
    tr.samples = samples
    return tr


def _check_headers(a: _Archive) -> None:
    text_cap, rows = limits.MAX_TEXT_CHARS, limits.MAX_HISTORY_ROWS
    a.check("config", "settings", "U", 0)
    if a.headers["config"][1].itemsize > 4 * limits.MAX_CONFIG_JSON_CHARS:
        raise CheckpointError(f"The checkpoint's settings are {a.headers['config'][1].itemsize // 4:,} characters of "
                              f"JSON; the limit is {limits.MAX_CONFIG_JSON_CHARS:,}. It is damaged or not ours.")
    a.check("vocab", "vocabulary", "iu", 1, limits.MAX_VOCAB,
            "The checkpoint's vocabulary has {n:,} characters; the limit is {cap:,}.")
    a.check("data", "text", "iu", 1, text_cap, "The checkpoint's text has {n:,} characters; the limit is {cap:,}.")
    a.check("counters", "counters", "iu", 1)
    if a.headers["counters"][0] != (3,):
        raise CheckpointError("The checkpoint's counters are damaged.")
    a.check("smooth_loss", "smoothed loss", "f", 0)
    a.check("state", "hidden state", "f")
    n_s = "The checkpoint records {n:,} samples; the limit is {cap:,}."
    a.check("sample_its", "sample iterations", "iu", 1, limits.MAX_RECORDED_SAMPLES, n_s)
    (n_texts,), dtype = a.check("sample_texts", "samples", "U", 1, limits.MAX_RECORDED_SAMPLES, n_s)
    if a.headers["sample_its"][0] != (n_texts,):
        raise CheckpointError("The checkpoint's recorded samples are damaged (iterations and texts differ in number).")
    if dtype.itemsize // 4 > limits.MAX_RECORDED_SAMPLE_CHARS:
        raise CheckpointError(f"A sample recorded in the checkpoint is up to {dtype.itemsize // 4:,} characters long; "
                              f"the limit is {limits.MAX_RECORDED_SAMPLE_CHARS:,}. It is damaged or not ours.")
    long_h = "The checkpoint's loss history has {n:,} rows; the limit is {cap:,}."
    for key, kinds in (("history_it", "iu"), ("history_loss", "f"), ("history_smooth", "f")):
        a.check(key, "history", kinds, 1, rows, long_h)
    a.check("history_meta", "history bookkeeping", "iu", 1, 3, "The checkpoint's history bookkeeping is damaged.")
    if "history_open_sum" in a:
        a.check("history_open_sum", "history bookkeeping", "f", 0)


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def _json_depth(text: str) -> int:
    """How deeply brackets nest, strings ignored: measured without recursion, before json.loads recurses."""
    depth = deepest = 0
    for ch in _JSON_STRING.sub('""', text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _config(a: _Archive, config_cls):
    text = str(a.read("config"))
    if _json_depth(text) > limits.MAX_CONFIG_JSON_DEPTH:
        raise CheckpointError(f"The checkpoint's settings nest {_json_depth(text):,} levels deep; a saved run's are "
                              f"flat (the limit is {limits.MAX_CONFIG_JSON_DEPTH}). It is damaged or not ours.")
    try:
        raw_cfg = json.loads(text)
    except ValueError:
        raise CheckpointError("The checkpoint's settings are damaged (not valid JSON).") from None
    known = {f.name for f in fields(config_cls)}
    if not isinstance(raw_cfg, dict) or set(raw_cfg) - known:
        raise CheckpointError("The checkpoint's settings are not ones this version knows.")
    try:
        config = config_cls(**raw_cfg)
        config.validate()
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"The checkpoint's settings are invalid: {str(err)[:300]}") from None
    return config


def _vocab(a: _Archive) -> Vocab:
    codes = a.read("vocab")
    if np.any(codes < 0) or np.any(codes > 0x10FFFF):
        raise CheckpointError("The checkpoint's vocabulary is not a list of characters.")
    bad = codes[(codes >= _SURROGATES[0]) & (codes <= _SURROGATES[1])]
    if bad.size:
        raise CheckpointError(f"The checkpoint's vocabulary holds U+{int(bad[0]):04X}, a lone surrogate that UTF-8 "
                              "cannot encode, so its text cannot be shown or saved. It is damaged or not ours.")
    try:
        return Vocab.from_chars(chr(int(c)) for c in codes)
    except TextError as err:
        raise CheckpointError(f"The checkpoint's vocabulary is damaged: {err}") from None


def _history(a: _Archive) -> LossHistory:
    meta = a.read("history_meta")
    cap = int(meta[0]) if meta.size else 0
    if cap > limits.MAX_HISTORY_ROWS:
        raise CheckpointError(f"The checkpoint's loss history cap is {cap:,} rows; the limit is "
                              f"{limits.MAX_HISTORY_ROWS:,}. It is damaged or not ours.")
    arrays = {k: a.read(k) for k in ("history_it", "history_loss", "history_smooth") + (
        ("history_open_sum",) if "history_open_sum" in a else ())}
    arrays["history_meta"] = meta
    try:
        return LossHistory.from_state(arrays)
    except ValueError as err:
        raise CheckpointError(f"The checkpoint's history is damaged: {err}") from None


def _samples(a: _Archive) -> list[tuple[int, str]]:
    its, texts = a.read("sample_its"), a.read("sample_texts")
    points = texts.view(np.uint32) if texts.size else np.zeros(0, np.uint32)  # (S * width,) code points
    if np.any((points >= _SURROGATES[0]) & (points <= _SURROGATES[1])) or np.any(points > 0x10FFFF):
        raise CheckpointError("A sample recorded in the checkpoint holds a code point UTF-8 cannot encode (a lone "
                              "surrogate); it is damaged or not ours.")
    return [(int(i), str(s)) for i, s in zip(its, texts)]


def _text(a: _Archive, vocab: Vocab) -> str:
    data = a.read("data")
    if data.size == 0 or int(data.max()) >= vocab.size:
        raise CheckpointError("The checkpoint's text does not match its vocabulary.")
    # One gather and one decode instead of a Python loop per character (5M characters: ~40 ms, not seconds).
    codes = np.array([ord(c) for c in vocab.chars], dtype="<u4")[data]   # (N,)
    return codes.tobytes().decode("utf-32-le")


def _fill(target: dict[str, np.ndarray], a: _Archive, prefix: str, what: str) -> None:
    """Copy a[prefix + name] into each target array, checking names, shapes and types before reading each."""
    given = {k[len(prefix):] for k in a.headers if k.startswith(prefix)}
    if given != set(target):
        shown = sorted(given)[:12]
        raise CheckpointError(f"The checkpoint's {what} names {shown} do not match a {sorted(target)} model.")
    for k, dest in target.items():
        shape, dtype = a.headers[prefix + k]
        if shape != dest.shape:
            raise CheckpointError(f"The checkpoint's {what} '{k}' has shape {shape}, but its vocabulary and settings need {dest.shape}.")
        if dtype.kind != "f":
            raise CheckpointError(f"The checkpoint's {what} '{k}' is not all finite numbers (it holds {dtype.str} values).")
        v = a.read(prefix + k)
        if not np.all(np.isfinite(v)):
            raise CheckpointError(f"The checkpoint's {what} '{k}' is not all finite numbers.")
        dest[...] = v
