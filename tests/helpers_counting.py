"""Counting the files opened and folders listed under a folder while an action runs (cost counted, not timed).

Audit hooks cannot be removed, so one is installed on import and counts only while `touched` runs.
"""
from __future__ import annotations

import sys

_COUNTING: dict = {"root": None, "n": 0}


def _hook(event, args):
    root = _COUNTING.get("root")
    if root and event in ("open", "os.scandir", "os.listdir") and args and str(args[0]).startswith(root):
        _COUNTING["n"] += 1


sys.addaudithook(_hook)


def touched(root, action):
    """(action(), how many files and folders under `root` it opened or listed)."""
    _COUNTING.update(root=str(root), n=0)
    try:
        result = action()
    finally:
        _COUNTING["root"] = None
    return result, _COUNTING["n"]
