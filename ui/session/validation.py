"""What the loss chart compares the curve with: counting baselines and the held-out (validation) loss.

Both are computed in each run's worker, next to its text and weights:
    Session.baselines   {run_id: {"unigram": .., "bigram": .., "trigram": ..}}  nats/char, asked once per run
    RunProxy.validation {"its": [..], "loss": [..]}  held-out nats/char, measured by the worker as it trains,
                        once enough iterations have passed since the last measurement (`validation_plan`)
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the worker imports validation_plan: no import of the session at run time
    from .session import Session

VALIDATION_EVERY = 100         # fewest iterations between two held-out measurements
VALIDATION_CHARS = (500, 2000)  # held-out characters scored per measurement: fewer for bigger models
CHAR_BUDGET = 4e7              # chars x parameters per measurement: 2,000 chars at H=100, 500 from H~300
OVERHEAD = 0.1                 # a measurement costs about this share of the training since the last one


def validation_plan(trainer) -> tuple[int, int]:
    """(held-out chars scored per measurement, iterations between measurements) for this run.

    Reading a character costs about as much as one step of a training window, which reads T
    characters forward and back (~3 passes). The first `chars` characters of the held-out part are
    scored every time, so the points of one curve compare; measuring every `every` iterations keeps
    the cost near OVERHEAD of the training time at any size (a few ms every 300 iterations at
    H=100; ~0.2 s for an LSTM at H=512, against ~3 s of training for the 100 iterations between).
    """
    lo, hi = VALIDATION_CHARS
    chars = int(min(max(CHAR_BUDGET / trainer.model.flat.size, lo), hi, trainer.val_data.size - 1))
    steps = chars / (3.0 * trainer.config.seq_length * OVERHEAD)   # training iterations per measurement
    return chars, max(VALIDATION_EVERY, int(math.ceil(steps / 100.0)) * 100)


def baselines(sess: "Session", index: int) -> dict[str, float]:
    """Unigram, bigram and trigram entropies of run `index`'s training text (nats/char), counted once in
    its worker and kept in the session."""
    run = sess.runs[index]
    hit = sess.baselines.get(run.run_id)
    if hit is None:
        hit = sess.baselines[run.run_id] = sess.group.call(index, "snapshot", {"view": "ngram"})["ngram"]
        for gone in set(sess.baselines) - {r.run_id for r in sess.runs}:
            del sess.baselines[gone]
    return hit


def validation_series(sess: "Session") -> list[tuple[str, list[int], list[float]]]:
    """(name, iterations, nats/char) per run with a held-out part, for loss_figure(validation=...).

    One run's series is just "held-out"; in compare mode each carries its run's curve name.
    """
    runs, names = sess.runs, sess.run_names()
    out = []
    for i, run in enumerate(runs):
        rec = run.trainer.validation
        if rec["its"]:
            name = "held-out" if len(runs) == 1 else f"{names[i]} held-out"
            out.append((name, list(rec["its"]), list(rec["loss"])))
    return out


def loss_chart_extras(sess: "Session") -> dict:
    """Keyword arguments for loss_figure: the active run's counting baselines and every held-out series."""
    return {"baselines": baselines(sess, sess.active), "validation": validation_series(sess)}
