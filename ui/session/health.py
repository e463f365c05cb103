"""Can a run be drawn? A cheap check made before a run is saved and when one is opened.

Why: the page autosaves every run that changed, and a link names the saved file. A run the page
cannot draw (its views raise, or show nothing but NaN) must never replace its last good file, or
its own link would reproduce the failure on every reload. The checkpoint loader already refuses
what it can judge from sizes and types; what it cannot judge is whether the numbers it accepted
still make a working model (finite weights of 1e308 do not). So the check uses the run the way the
views do, on a few characters: the probe (heatmap, bars, surprise, neuron strips), a short sample
(Generate, samples over time), and UTF-8 for every string the page sends to the browser.
It runs only when a save is due (at most every few seconds of Play) and on open: ~0.5 ms at RNN H=100,
~15 ms for an LSTM at H=512 on a busy 2-core machine: well below the save it guards.
"""
from __future__ import annotations

import numpy as np

from rnn_core import Trainer

PROBE_CHARS = 4      # characters of the run's own text read by the probe: every path, not every number
SAMPLE_CHARS = 2     # characters generated


class UndrawableRun(ValueError):
    """A run that loads but that the page cannot draw."""


def why_not_drawable(trainer: Trainer) -> str | None:
    """None if the page can draw `trainer`, else a sentence saying why not."""
    try:
        "".join(trainer.vocab.chars).encode("utf-8")  # every character of the text and the probe box
        for _, s in trainer.samples:
            s.encode("utf-8")
        with np.errstate(all="ignore"):  # an overflow is the finding here, not a warning for the log
            probe = trainer.probe(trainer.text[:PROBE_CHARS])
            if not (np.all(np.isfinite(probe.probs)) and np.all(np.isfinite(probe.hidden))):
                return ("its predictions are not finite numbers (weights too large for floating point), so every "
                        "view would be empty and every sample noise")
            trainer.sample(trainer.text[0], SAMPLE_CHARS, seed=0)
    except Exception as err:  # noqa: BLE001  whatever the views would have raised
        return f"drawing it fails ({type(err).__name__}: {str(err)[:200]})"
    return None


def check_drawable(trainer: Trainer) -> None:
    """Raise UndrawableRun (a ValueError with the reason) if the page cannot draw `trainer`."""
    reason = why_not_drawable(trainer)
    if reason is not None:
        raise UndrawableRun(f"the run cannot be shown: {reason}")


__all__ = ["PROBE_CHARS", "SAMPLE_CHARS", "UndrawableRun", "check_drawable", "why_not_drawable"]
