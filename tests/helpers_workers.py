"""Shared set-up for the training-worker tests: one real Ray for the whole test session.

`ray_up` (tests/conftest.py) is session-scoped: Ray starts once for the whole suite, AppTests included.
"""
from __future__ import annotations

import os
import time

PROSE = open(os.path.join(os.path.dirname(__file__), "..", "assets", "prose.txt"), encoding="utf-8").read()[:20_000]
SMALL = {"hidden_size": 16, "seq_length": 10}


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
