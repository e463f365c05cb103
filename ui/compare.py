"""Compare mode (issue 6): up to three runs on the same text and seed, trained in lock step.

The logic only, without Streamlit (ui/panels_compare.py draws it). Every action takes the
session-state mapping, like those in ui/state.py, and reports through `state.notify(ss, "compare", ...)`.

What "lock step" means here: `training.train` brings every run to the same iteration on each click or
Play tick (a run that lags, e.g. after a divergence, catches up by at most one extra batch per call).
A run whose divergence needs a Reset (`Run.needs_reset`) is left where it stopped and the others train
on. A run added to a group that has already trained is caught up at once (`catch_up`), so its curve
starts where the others' did; beyond one long click (limits.MAX_ITERS_PER_CLICK) the add is refused and
a preset, which starts every run from iteration 0, is the way to compare.

Session-state keys used here:
    active_run      int             the radio that picks the run the single-run panels show (mirrors ss["active"])
    compare_lr2     float           the second learning rate of the "two learning rates" preset
    samples_by_run  {run_id: (seed char, text)}   the last Generate of every run; ss["sample"] stays
                                    the ACTIVE run's text (without its seed character)
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from rnn_core import DivergenceError, TrainConfig, Trainer, limits

from . import state
from .figures import LossSeries, downsample
from .figures_base import PALETTE

State = state.State

PRESET_CELLS = "cells"
PRESET_LR = "lr"
PRESETS = {PRESET_CELLS: "RNN vs LSTM vs GRU", PRESET_LR: "Two learning rates"}
CURVE_POINTS = 1500       # points per loss curve the chart sends for ALL runs together (one run: loss_figure's cap)
CATCH_UP_CHUNK_S = 0.25   # a catch-up reports progress (and may be interrupted) about this often


# ---- names and colours ---------------------------------------------------------------------
_NAME_FIELDS = (  # besides cell and hidden size: what may tell two runs apart, as shown in a name
    ("learning_rate", lambda c: f"lr={c.learning_rate:g}"),
    ("optimizer", lambda c: c.optimizer),
    ("seq_length", lambda c: f"T={c.seq_length}"),
    ("seed", lambda c: f"seed {c.seed}"),
    ("clip", lambda c: f"clip {c.clip:g}" if c.clip else "no clip"),
)


def run_names(configs: Sequence[TrainConfig]) -> list[str]:
    """Short legend names that tell the runs apart: "RNN H=100", "LSTM H=100", "RNN lr=0.1".

    The cell always; the hidden size when it differs or nothing else (but the cell) does; then every
    other setting that differs between the runs. Identical settings get "#2", "#3".
    """
    if not configs:
        return []

    def differs(name: str) -> bool:
        return len({getattr(c, name) for c in configs}) > 1

    extra = [fmt for name, fmt in _NAME_FIELDS if differs(name)]
    show_h = differs("hidden_size") or not extra
    names = []
    for c in configs:
        parts = [c.cell.upper()] + ([f"H={c.hidden_size}"] if show_h else []) + [fmt(c) for fmt in extra]
        names.append(" ".join(parts))
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out


def names(ss: State) -> list[str]:
    return run_names([r.trainer.config for r in state.runs(ss)])


def color(i: int) -> str:
    """The colour of run i: its loss curve, its readout and its sample share it."""
    return PALETTE[i % len(PALETTE)]


def is_compare(ss: State) -> bool:
    return len(state.runs(ss)) > 1


def loss_series(ss: State) -> list[LossSeries]:
    """One LossSeries per run, each in its own fixed colour; the ACTIVE run first.

    loss_figure puts the sample-hover markers on its first series, and the samples passed with it are
    the active run's; the legend keeps the runs' own order (see `legend_order`).
    """
    runs = state.runs(ss)
    labels = ["training loss"] if len(runs) == 1 else names(ss)
    series = [_series(labels[i], r.trainer.history, color(i), len(runs)) for i, r in enumerate(runs)]
    a = ss.get("active", 0)
    return [series[a]] + series[:a] + series[a + 1:] if 0 < a < len(series) else series


def _series(name: str, history, colour: str, n_runs: int) -> LossSeries:
    """A run's curve; with several runs, thinned first so the chart's payload does not grow with them.

    loss_figure keeps at most 1,500 points per curve (min-max decimation); three runs would send three
    times one run's bytes. Here each run keeps ~CURVE_POINTS / n_runs points per curve: the union of
    the min-max picks of its raw and its smooth loss, so spikes survive on both.
    """
    its, loss, smooth = history.iterations, history.loss, history.smooth
    per_run = max(2, CURVE_POINTS // n_runs // 2)  # the union below is at most twice this
    if n_runs > 1 and len(its) > 2 * per_run:
        pos = np.arange(len(its))
        keep = np.union1d(downsample(pos, loss, per_run)[0], downsample(pos, smooth, per_run)[0])
        its, loss, smooth = its[keep], loss[keep], smooth[keep]
    return LossSeries(name, its, loss, smooth, color=colour)


def legend_order(fig, ss: State) -> None:
    """Keep the legend in the runs' order whichever run is drawn first."""
    if not is_compare(ss):
        return
    rank = {n: i for i, n in enumerate(names(ss))}
    for trace in fig.data:
        group = getattr(trace, "legendgroup", None)
        if group in rank:
            trace.legendrank = 100 + rank[group]


# ---- starting and changing a comparison ----------------------------------------------------
def default_lr2(lr: float) -> float:
    """The second rate the preset offers: ten times smaller, rounded to one significant digit."""
    x = lr / 10
    return float(f"{x:.1g}") if x > 0 else 0.01


def preset_configs(base: TrainConfig, preset: str, lr2: float | None = None) -> list[TrainConfig]:
    """The runs of a preset, all with `base`'s text-independent settings and seed."""
    if preset == PRESET_CELLS:
        return [replace(base, cell=c) for c in state.cell_options()[:state.MAX_RUNS]]
    if preset == PRESET_LR:
        lr2 = default_lr2(base.learning_rate) if lr2 is None else float(lr2)
        if not (math.isfinite(lr2) and lr2 > 0):
            raise ValueError(f"The second learning rate must be a positive number, not {lr2!r}.")
        if math.isclose(lr2, base.learning_rate):
            raise ValueError(f"Both learning rates are {lr2:g}: pick a different second rate to compare.")
        return [base, replace(base, learning_rate=lr2)]
    raise ValueError(f"Unknown comparison {preset!r}; choose one of {', '.join(PRESETS)}.")


def start_preset(ss: State, preset: str) -> None:
    """A preset button: replace the session's runs by the preset's, all at iteration 0, on the active text."""
    base_run = state.active_run(ss)
    try:
        configs = preset_configs(state.config_from_widgets(ss), preset, ss.get("compare_lr2"))
        new = [state.Run(Trainer(base_run.trainer.text, cfg), base_run.source) for cfg in configs]
    except ValueError as err:
        state.notify(ss, "compare", "error", f"Could not start the comparison: {err}")
        return
    _install_group(ss, new)
    state.notify(ss, "compare", "success",
                 f"{PRESETS[preset]}: {len(new)} runs on “{base_run.source}”, seed {configs[0].seed}, "
                 f"all at iteration 0. Train or Play advances them together.")


def add_current(ss: State) -> None:
    """"Add a run": the sidebar's settings, on the same text; caught up with the others by `catch_up`."""
    runs = state.runs(ss)
    lead = lead_iteration(runs)
    if len(runs) >= state.MAX_RUNS:
        state.notify(ss, "compare", "error", f"At most {state.MAX_RUNS} runs train side by side: remove one first.")
        return
    if lead > limits.MAX_ITERS_PER_CLICK:
        state.notify(ss, "compare", "error",
                     f"The runs are at iteration {lead:,}: a new run would have to train that far to catch up "
                     f"(more than one long click, {limits.MAX_ITERS_PER_CLICK:,} iterations). Start a preset "
                     "instead: it begins every run from iteration 0.")
        return
    try:
        state.add_run(ss, state.config_from_widgets(ss))
    except ValueError as err:
        state.notify(ss, "compare", "error", f"Could not add the run: {err}")
        return
    # The sidebar now shows the new run's settings, so select it: pending-change warnings stay truthful.
    select(ss, len(state.runs(ss)) - 1)
    ss["train_rate"] = 0.0  # the group's speed changed: Play measures it again before sizing its ticks
    name = names(ss)[-1]
    state.notify(ss, "compare", "success",
                 f"Added {name}." + (f" It trains up to iteration {lead:,} first, to join the others." if lead else ""))


def remove(ss: State, index: int) -> None:
    """Drop run `index` (never the last one); the active run stays if it survives, else the first."""
    runs = state.runs(ss)
    if len(runs) <= 1 or not 0 <= index < len(runs):
        return
    name = names(ss)[index]
    keep = runs[:index] + runs[index + 1:]
    a = ss.get("active", 0)
    ss["runs"] = keep
    select(ss, a - 1 if a > index else (0 if a == index else a))
    ss["train_rate"] = 0.0
    ss.get("samples_by_run", {}).pop(runs[index].run_id, None)
    state.notify(ss, "compare", "info", f"Removed {name}.")


def remove_active(ss: State) -> None:
    remove(ss, ss.get("active", 0))


def leave(ss: State) -> None:
    """Keep only the active run: back to a single run, with its training so far."""
    runs = state.runs(ss)
    if len(runs) <= 1:
        return
    name = names(ss)[ss.get("active", 0)]
    ss["runs"] = [state.active_run(ss)]
    select(ss, 0)
    ss["train_rate"] = 0.0
    state.notify(ss, "compare", "info", f"Back to one run: {name}, with its training so far.")


def select(ss: State, index: int) -> None:
    """Make run `index` the one the single-run panels, the sidebar and ss["sample"] show."""
    index = max(0, min(int(index), len(state.runs(ss)) - 1))
    state.set_active(ss, index)
    ss["active_run"] = index
    state.sync_widgets(ss, ss["trainer"].config)
    seed_char, text = ss.get("samples_by_run", {}).get(state.active_run(ss).run_id, ("", ""))
    ss["sample"], ss["sample_seed_char"] = text, seed_char


def on_pick(ss: State) -> None:
    """on_change of the `active_run` radio."""
    select(ss, ss.get("active_run", 0))


def _install_group(ss: State, new_runs: list[state.Run]) -> None:
    state._install(ss, new_runs, 0)  # probe text, samples, Play and the measured speed start afresh
    ss["samples_by_run"] = {}
    select(ss, 0)


# ---- lock step -----------------------------------------------------------------------------
def lead_iteration(runs: Sequence[state.Run]) -> int:
    """The iteration the group is at: the furthest run that can still train."""
    live = [r.trainer.iteration for r in runs if not r.needs_reset]
    return max(live) if live else max((r.trainer.iteration for r in runs), default=0)


def behind(ss: State) -> list[tuple[int, int]]:
    """(index, iterations missing) of every healthy run below the lead: a just-added run."""
    runs = state.runs(ss)
    lead = lead_iteration(runs)
    return [(i, lead - r.trainer.iteration) for i, r in enumerate(runs)
            if r.trainer.iteration < lead and not r.error]


def catch_up(ss: State, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Train every healthy lagging run up to the lead, in chunks; returns the iterations trained.

    A divergence on the way is kept on that run (its message names it) and pauses Play.
    """
    with state.training_lock(ss):  # an older run of the script may still be training (see there)
        return _catch_up(ss, on_progress)


def _catch_up(ss: State, on_progress: Callable[[int, int], None] | None) -> int:
    gaps = behind(ss)
    total = sum(g for _, g in gaps)
    done = 0
    rate = ss.get("train_rate") or 0.0
    for i, gap in gaps:
        run = state.runs(ss)[i]
        chunk = max(1, int(rate * CATCH_UP_CHUNK_S) if rate > 0 else 200)
        left = gap
        while left > 0:
            k = min(chunk, left)
            t0 = time.perf_counter()
            try:
                run.trainer.step(k)
            except DivergenceError as err:
                run.error, run.needs_reset = str(err), bool(getattr(err, "needs_reset", False))
                ss["playing"] = False
                break
            dt = time.perf_counter() - t0
            chunk = max(1, int(k / dt * CATCH_UP_CHUNK_S)) if dt > 0 else chunk
            left -= k
            done += k
            if on_progress is not None:
                on_progress(done, total)
    return done


# ---- readouts and samples ------------------------------------------------------------------
def readouts(ss: State) -> list[dict]:
    """One row per run for the readout cards: name, colour, iteration, smooth loss, bits/char, speed.

    Read under the training lock, so the cards never show a lock-step group halfway through a batch.
    """
    with state.training_lock(ss):
        return _readouts(ss)


def _readouts(ss: State) -> list[dict]:
    out = []
    for i, (run, name) in enumerate(zip(state.runs(ss), names(ss))):
        tr = run.trainer
        out.append(dict(index=i, name=name, color=color(i), active=i == ss.get("active", 0),
                        iteration=tr.iteration, smooth_loss=tr.smooth_loss, bits_per_char=tr.bits_per_char,
                        speed=tr.iters_per_second, error=run.error, needs_reset=run.needs_reset))
    return out


def generate_all(ss: State) -> None:
    """Generate: one sample per run with the same seed character, length, temperature, top-k and seed.

    ss["sample"] is the active run's text (the single-run contract); every run's lands in
    ss["samples_by_run"][run_id] as (seed char, text).
    """
    tr = ss["trainer"]
    seed_char = ss.get("seed_char") or tr.text[0]
    by_run = {}
    for run in state.runs(ss):
        try:
            text = state.sample_with_widgets(ss, run.trainer, seed_char)
        except ValueError as err:
            state.notify(ss, "sample", "error", str(err))
            return
        by_run[run.run_id] = (seed_char, text)
    ss["samples_by_run"] = by_run
    ss["sample_seed_char"], ss["sample"] = by_run[state.active_run(ss).run_id]


def samples(ss: State) -> list[tuple[str, str, str, str]]:
    """(name, colour, seed char, text) of the current runs' last Generate, in the runs' order."""
    by_run = ss.get("samples_by_run") or {}
    out = []
    for i, (run, name) in enumerate(zip(state.runs(ss), names(ss))):
        if run.run_id in by_run:
            seed_char, text = by_run[run.run_id]
            out.append((name, color(i), seed_char, text))
    return out


__all__ = [
    "PRESETS", "PRESET_CELLS", "PRESET_LR", "run_names", "names", "color", "is_compare", "loss_series",
    "legend_order", "default_lr2", "preset_configs", "start_preset", "add_current", "remove", "remove_active",
    "leave", "select", "on_pick", "lead_iteration", "behind", "catch_up", "readouts", "generate_all", "samples",
]
