"""What the hidden-state heatmap can show: h for every cell, and what the cell lists in its `views`
(the keys of `Trainer.probe(text).extras`, each (T, H)), read from the cell registry. No Streamlit.

Colour ranges, by the View's kind:
    tanh        (h, candidates) the diverging scale on [-1, 1], red +1, blue -1
    gate        sigmoid outputs: a sequential scale on [0, 1], dark = closed (0), yellow = open (1)
    unbounded   (the LSTM's cell state c) not squashed: it grows past ±1 as the cell learns (prose, H=100, 300 iterations:
                   median |c| 0.6, 95th percentile 6.4, max 14). The diverging scale is SCALED to ±m,
                   m = the 95th percentile of |c| on the probe text rounded up to a readable number and
                   never below 1; the few values beyond m are drawn at the ends of the scale (the hover
                   shows the true value). Scaling to the maximum (or the 99th percentile) let two runaway
                   units wash out all the others; clipping to ±1 would saturate a quarter of the cells.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnn_core.cell_views import HIDDEN, View
from rnn_core.cells import CELLS

DIVERGING = "RdBu"
# hidden_heatmap reverses its colour scale (so that RdBu reads red = +1); "_r" undoes that for the
# gates, which then run dark purple (0, closed) -> yellow (1, open).
GATE_SCALE = "Viridis_r"
C_PERCENTILE = 95.0  # at most ~5% of the cells saturate; at 99 a couple of runaway units set the range

@dataclass
class HeatmapView:
    key: str            # HIDDEN or a probe-extras key
    label: str          # "forget gate f"
    values: np.ndarray  # (T, H)
    zmin: float
    zmax: float
    colorscale: str
    caption: str        # how to read the colours

    @property
    def title(self) -> str:
        """For the chart title: "Hidden state" (as for the RNN), "Cell state c", "Forget gate f"."""
        return "Hidden state" if self.key == HIDDEN else self.label[:1].upper() + self.label[1:]


def _views(cell: str) -> dict[str, View]:
    return getattr(CELLS.get(cell), "views", {})


def view_of(cell: str, key: str) -> View:
    """The cell's own description of `key`; an extra it does not describe is shown as a tanh value."""
    return _views(cell).get(key) or View(key, "", "tanh")


def options(cell: str, extras) -> list[str]:
    """The views this cell offers, h first: HIDDEN, then the probe extras in the cell's order."""
    known = _views(cell)
    return [HIDDEN] + [k for k in known if k in extras and k != HIDDEN] + [k for k in extras if k not in known]


def label(cell: str, key: str) -> str:
    return view_of(cell, key).label


def _nice_up(q: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 (x 10^k) that is >= q."""
    mag = 10 ** math.floor(math.log10(q))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if q <= m * mag + 1e-12:
            return float(m * mag)
    return float(10 * mag)


def build(cell: str, key: str, hidden: np.ndarray, extras) -> HeatmapView:
    """The array, colour range and caption of view `key` (HIDDEN, or a key of `extras`)."""
    name, meaning, kind = view_of(cell, key)
    lead = f"**{name[:1].upper()}{name[1:]}**" + (f": {meaning}. " if meaning else ". ")
    if key == HIDDEN:
        values = np.asarray(hidden)
    elif key in extras:
        values = np.asarray(extras[key])
    else:
        raise ValueError(f"The {cell.upper()} cell has no {key!r} to show; "
                         f"choose one of {', '.join(options(cell, extras))}.")
    if kind == "gate":
        return HeatmapView(key, name, values, 0.0, 1.0, GATE_SCALE,
                           lead + "Each row is one unit, each column the gate right after the network reads that "
                           "character: dark near 0, the gate is closed; yellow near 1, it is open.")
    if kind == "unbounded":
        m = _nice_up(max(1.0, _percentile_abs(values)))
        return HeatmapView(key, name, values, -m, m, DIVERGING,
                           lead + "Each row is one unit, each column the state right after the network reads that "
                           f"character; red positive, blue negative. It is not squashed into [−1, 1]: the colours "
                           f"span ±{m:g} (the {C_PERCENTILE:g}th percentile of its size on this text, rounded up, at "
                           "least 1) and saturate beyond; hover for the exact value.")
    return HeatmapView(key, name, values, -1.0, 1.0, DIVERGING,
                       lead + "Each row is one unit, each column the value right after the network reads that "
                       "character; red near +1, blue near −1.")


def _percentile_abs(values: np.ndarray) -> float:
    a = np.abs(np.asarray(values, dtype=np.float64))
    a = a[np.isfinite(a)]
    return float(np.percentile(a, C_PERCENTILE)) if a.size else 1.0


__all__ = ["HIDDEN", "HeatmapView", "options", "label", "view_of", "build", "GATE_SCALE", "DIVERGING"]
