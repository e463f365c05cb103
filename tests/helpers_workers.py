"""Shared set-up for the training-worker tests: one real Ray for the whole test session.

`ray_up` is session-scoped and ensure_ray() is idempotent, so however many test modules import the
fixture, Ray starts once. It starts with OPENBLAS_NUM_THREADS=2 in the environment its workers inherit
(the suite's conftest sets 1), so a worker showing one BLAS thread proves the app pinned it itself.
"""
from __future__ import annotations

import os
import time

import pytest

PROSE = open(os.path.join(os.path.dirname(__file__), "..", "assets", "prose.txt"), encoding="utf-8").read()[:20_000]
SMALL = {"hidden_size": 16, "seq_length": 10}


@pytest.fixture(scope="session")
def ray_up():
    import ray

    from ui.session.cluster import ensure_ray

    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "2"
    try:
        ensure_ray(num_cpus=2)
    finally:
        if saved is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = saved
    yield ray
    ray.shutdown()


class FakeClock:
    """A clock the test moves by hand, for idle times and queue expiry."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def wait_until(cond, timeout: float = 20.0, poll: float = 0.01) -> bool:
    """Poll a condition; the timeout is a safety net against a hang, never the thing tested."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(poll)
    return cond()
