"""What a cell offers to the hidden-state heatmap (`Cell.views`); its own module so that both
cells.py and cells_gated.py import it without a cycle."""
from __future__ import annotations

from typing import NamedTuple

HIDDEN = "hidden"  # the views key of h, which every cell has


class View(NamedTuple):
    """One (T, H) array a cell can show: h, or a key of its probe_extras."""

    label: str     # "forget gate f"
    meaning: str   # what it is, for the caption
    kind: str      # "tanh": [-1, 1]; "gate": [0, 1]; "unbounded": a range scaled to the values


__all__ = ["HIDDEN", "View"]
