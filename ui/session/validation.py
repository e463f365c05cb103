"""What the loss chart compares the curve with: counting baselines and the held-out (validation) loss.

Both are caches of the visitor's Session, keyed by run id, so nothing is shared between visitors:
    Session.baselines   {run_id: (n_train, {"unigram": .., "bigram": .., "trigram": ..})}  nats/char
    Session.validation  {run_id: {"its": [..], "loss": [..]}}   held-out loss in nats/char
The held-out loss is measured when the chart is drawn, which is after every Train click and Play
tick, once enough iterations have passed since the last measurement (`validation_plan`).
"""
from __future__ import annotations

import math

from rnn_core import analysis as A

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


def baselines(sess: Session, trainer, run_id: str) -> dict[str, float]:
    """Unigram, bigram and trigram entropies of the run's training ids (nats/char), computed once per run."""
    cache = sess.baselines
    n = len(trainer.data)
    hit = cache.get(run_id)
    if hit is None or hit[0] != n:
        hit = cache[run_id] = (n, A.ngram_entropies(trainer.data, trainer.vocab.size))
    return hit[1]


def record_validation(sess: Session) -> None:
    """Measure the held-out loss of each run that holds text out and is due; forget runs that are gone."""
    store, runs = sess.validation, sess.runs
    for gone in set(store) - {run.run_id for run in runs}:
        del store[gone]
    for run in runs:
        tr = run.trainer
        if tr.val_data.size < 2:
            continue
        rec = store.setdefault(run.run_id, {"its": [], "loss": []})
        if rec["its"] and rec["its"][-1] > tr.iteration:   # the run went back (a restored checkpoint)
            keep = sum(1 for it in rec["its"] if it <= tr.iteration)
            del rec["its"][keep:], rec["loss"][keep:]
        last = rec["its"][-1] if rec["its"] else None
        chars, every = validation_plan(tr)
        if A.validation_due(last, tr.iteration, every):
            rec["its"].append(tr.iteration)
            rec["loss"].append(A.validation_loss(tr.model, tr.val_data, tr.config.seq_length, max_chars=chars))


def validation_series(sess: Session) -> list[tuple[str, list[int], list[float]]]:
    """(name, iterations, nats/char) per run with a held-out part, for loss_figure(validation=...).

    One run's series is just "held-out"; in compare mode each carries its run's curve name.
    """
    record_validation(sess)
    store, runs = sess.validation, sess.runs
    names = sess.run_names()
    out = []
    for i, run in enumerate(runs):
        rec = store.get(run.run_id)
        if rec and rec["its"]:
            name = "held-out" if len(runs) == 1 else f"{names[i]} held-out"
            out.append((name, list(rec["its"]), list(rec["loss"])))
    return out


def loss_chart_extras(sess: Session) -> dict:
    """Keyword arguments for loss_figure: the active run's counting baselines and every held-out series."""
    active = sess.active_run
    return {"baselines": baselines(sess, active.trainer, active.run_id), "validation": validation_series(sess)}
