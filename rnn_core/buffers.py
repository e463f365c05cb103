"""Float64 buffers placed on cache-line boundaries.

OpenBLAS's matrix-vector kernels run measurably slower on a matrix that does not start on a
32-byte boundary (H = 100: ~1.45 us instead of ~1.2 us per product, 49 products per iteration),
and numpy only promises 16 bytes. Where a buffer lands used to depend on the allocator, so the
same run could be fast or slow from one process to the next.
"""
from __future__ import annotations

import numpy as np

LINE = 64  # bytes


def aligned_zeros(shape, at: int = 0) -> np.ndarray:
    """A zeroed float64 array of `shape` whose element number `at` (in C order) starts a 64-byte line."""
    n = int(np.prod(shape))
    raw = np.zeros(n + LINE // 8)
    skip = (-(raw.ctypes.data + 8 * at) % LINE) // 8   # float64 allocations are 8-byte aligned at least
    return raw[skip : skip + n].reshape(shape)
