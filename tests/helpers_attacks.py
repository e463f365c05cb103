"""Hostile checkpoints, built on the fly (no binary blobs in the repository), and what a refusal cost.

`crafted` rewrites a real checkpoint with some arrays replaced by arrays that exist only as a
.npy header plus zero bytes streamed through deflate: a 251 MB array costs ~250 KB of file and
never sits in this process's memory. `cost` runs a refusal under tracemalloc and counts the bytes
zipfile decompressed, the two measures of work the tests assert (never the wall clock).
"""
from __future__ import annotations

import io
import tracemalloc
import zipfile
from dataclasses import dataclass

import numpy as np

from rnn_core.checkpoint import to_arrays

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Zeros:
    """An array of `shape` and `dtype` whose bytes are all zero, written without allocating it."""

    dtype: str
    shape: tuple


def crafted(tr, **changes) -> bytes:
    """A real checkpoint of `tr` (compressed) with arrays replaced: ndarray, Zeros, or None (removed)."""
    arrays = dict(to_arrays(tr))
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            with z.open(key + ".npy", "w", force_zip64=True) as f:
                if isinstance(value, Zeros):
                    header = {"descr": np.dtype(value.dtype).str, "fortran_order": False, "shape": value.shape}
                    np.lib.format.write_array_header_1_0(f, header)
                    left = int(np.prod(value.shape, dtype=object)) * np.dtype(value.dtype).itemsize
                    zeros = bytes(_CHUNK)
                    while left > 0:
                        f.write(zeros[: min(left, _CHUNK)])
                        left -= _CHUNK
                else:
                    np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    return buf.getvalue()


@dataclass
class Cost:
    error: BaseException | None
    peak_bytes: int        # tracemalloc's peak while the action ran (numpy reports its buffers to it)
    unpacked_bytes: int    # bytes zipfile decompressed


def cost(action, monkeypatch) -> Cost:
    unpacked = [0]
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = real_read(self, n)
        unpacked[0] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    tracemalloc.start()
    try:
        try:
            action()
            error = None
        except BaseException as err:  # noqa: BLE001  the test inspects what escaped
            error = err
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        monkeypatch.setattr(zipfile.ZipExtFile, "read", real_read)
    return Cost(error, peak, unpacked[0])
