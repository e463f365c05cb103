"""What a look-inside view needs, computed next to the trainer so no weights cross the wire.

The page sends a small request dict naming one view, e.g.
    {"view": "heatmap", "text": "hello", "key": "hidden", "pos": 3}
and gets back a dict of plain values and small arrays. A new view is one function here plus one
line in VIEWS: `view(trainer, request, cache) -> dict`. Arrays meant for charts go as float32 (float16 for the heatmap grid: 2 bytes per
cell keeps a 400-character probe of 512 units at 400 KB; colours cannot show the difference).
Each function reads the trainer and changes nothing.
"""
from __future__ import annotations

from dataclasses import asdict

import numpy as np

from rnn_core import analysis as A
from rnn_core import limits
from rnn_core.cell_views import HIDDEN  # the key of h, as the cells' heatmap views name it
MAX_GUESSES = 10


def _probe(trainer, request: dict):
    text = request.get("text", "")
    if not isinstance(text, str):
        raise ValueError("The probe text must be text; type a few characters of the training text.")
    return trainer.probe(text[: limits.MAX_PROBE_CHARS])


def _heatmap(trainer, request: dict, cache: dict) -> dict:
    """One (T, H) grid (h, or one of the cell's extras such as the LSTM's c or a gate) and the next-char bars at pos."""
    probe = _probe(trainer, request)
    key = request.get("key", HIDDEN)
    grids = {HIDDEN: probe.hidden, **probe.extras}
    if key not in grids:
        raise ValueError(f"This cell has no {key!r} to show; pick one of {', '.join(grids)}.")
    T = len(probe.ids)
    pos = int(request.get("pos", 0))
    if not 0 <= pos < T:
        raise ValueError(f"Pick a position from 0 to {T - 1} in the probe text, not {pos}.")
    return {
        "keys": list(grids), "key": key, "pos": pos,
        "grid": np.asarray(grids[key], dtype=np.float16),          # (T, H)
        "probs": probe.probs[pos].astype(np.float32),               # (V,) next-char distribution at pos
        "loss": probe.loss.astype(np.float32),                      # (T-1,) nats
        "p95_abs": float(np.percentile(np.abs(grids[key]), 95)) if grids[key].size else 0.0,
    }


def _neurons(trainer, request: dict, cache: dict) -> dict:
    """The units that track simple features of the probe text, and one unit's activation along it
    (with its correlation to each feature, and its unbounded states such as the LSTM's c)."""
    from rnn_core.cells import CELLS

    probe = _probe(trainer, request)
    H = probe.hidden.shape[1]
    features = A.text_features(probe.text)
    ranking = A.rank_units(probe.hidden, features, top=int(request.get("top", 3)))
    unit = request.get("unit")
    if not isinstance(unit, (int, np.integer)) or not 0 <= unit < H:
        unit = ranking[0][1] if ranking else 0   # start on the unit that tracks a feature best
    unit = int(unit)
    names, r = A.unit_correlations(probe.hidden, features)
    unbounded = {key: np.asarray(probe.extras[key][:, unit], dtype=np.float32)          # (T,)
                 for key, view in getattr(CELLS.get(trainer.config.cell), "views", {}).items()
                 if view.kind == "unbounded" and key in probe.extras}
    return {"ranking": ranking, "unit": unit, "H": int(H), "text": probe.text,
            "activation": A.unit_activation(probe.hidden, unit).astype(np.float32),   # (T,)
            "names": list(names), "r_unit": [float(x) for x in r[:, unit]], "unbounded": unbounded}


def _surprise(trainer, request: dict, cache: dict) -> dict:
    probe = _probe(trainer, request)
    if len(probe.text) < 2:
        return {"text": probe.text, "loss": np.zeros(0, np.float32), "guesses": []}
    k = min(int(request.get("k", 3)), MAX_GUESSES)
    loss, guesses = A.surprise(probe, trainer.vocab.chars, k=k)
    return {"text": probe.text, "loss": loss.astype(np.float64), "guesses": guesses}   # (T-1,) nats


def _gradient_flow(trainer, request: dict, cache: dict) -> dict:
    flow = asdict(A.gradient_flow(trainer))
    flow["norms"] = flow["norms"].astype(np.float32)
    return flow


def _microscope(trainer, request: dict, cache: dict) -> dict:
    out = A.microscope(trainer, int(request.get("position", 0)), update=request.get("update", "sgd"),
                       learning_rate=request.get("learning_rate"))
    w = A.next_window(trainer)
    out["window"] = trainer.vocab.decode(np.append(w.inputs, w.targets[-1]))   # the T+1 characters shown
    return out


def _samples(trainer, request: dict, cache: dict) -> dict:
    return {"samples": list(trainer.samples)}


def _baselines(trainer, request: dict, cache: dict) -> dict:
    """Counting baselines of the training text (counted once per worker) and, with hold-out on, the held-out loss now."""
    if "ngram" not in cache:
        cache["ngram"] = A.ngram_entropies(trainer.data, trainer.vocab.size)
    out = {"ngram": cache["ngram"], "validation": None}
    if trainer.val_data.size >= 2:
        out["validation"] = A.validation_loss(trainer.model, trainer.val_data, trainer.config.seq_length,
                                              max_chars=int(request.get("max_chars", 2_000)))
    return out


def _ngram(trainer, request: dict, cache: dict) -> dict:
    """The counting baselines alone (the loss chart asks once per run)."""
    if "ngram" not in cache:
        cache["ngram"] = A.ngram_entropies(trainer.data, trainer.vocab.size)
    return {"ngram": cache["ngram"]}


VIEWS = {
    "ngram": _ngram,
    "heatmap": _heatmap,
    "neurons": _neurons,
    "surprise": _surprise,
    "gradient_flow": _gradient_flow,
    "microscope": _microscope,
    "samples": _samples,
    "baselines": _baselines,
}


def snapshot(trainer, request: dict, cache: dict | None = None) -> dict:
    """The chosen view's data, tagged with the view name and the iteration it shows.

    `cache` is the worker's dict for results that never change during a run (the text's n-gram counts).
    """
    if not isinstance(request, dict) or request.get("view") not in VIEWS:
        name = request.get("view") if isinstance(request, dict) else request
        raise ValueError(f"Unknown view {name!r}; choose one of {', '.join(VIEWS)}.")
    out = VIEWS[request["view"]](trainer, request, {} if cache is None else cache)
    out.update(view=request["view"], iteration=int(trainer.iteration))
    return out


__all__ = ["HIDDEN", "VIEWS", "snapshot"]
