"""Compare mode: up to three runs on the same text and seed, trained in lock step.

The actions only; ui/panels/compare.py draws them. Every action takes the session-state mapping and
reports through the session's notices (area "compare").

What "lock step" means here: each run has its own worker, and the session's Group brings every run to
the same iteration on each chunk of a click or of Play, all runs in parallel (a run that lags, e.g.
after a divergence, catches up by at most one extra chunk each time). A run whose divergence needs a
Reset (`Run.needs_reset`) is left where it stopped and the others train on. A run added to a group that
has already trained is caught up at once (`Session.catch_up`), so its
curve starts where the others' did; beyond one long click (limits.MAX_ITERS_PER_CLICK) the add is
refused and a preset, which starts every run from iteration 0, is the way to compare.

Widget keys used here:
    active_run      int     the radio that picks the run the single-run panels show (mirrors Session.active)
    compare_lr2     float   the second learning rate of the "two learning rates" preset
"""
from __future__ import annotations

import math
from dataclasses import replace

from dataclasses import asdict

from rnn_core import TrainConfig, limits
from rnn_core.presets import FAST, MIN_CHAR_RNN, preset_fields

from . import state
from .names import md_escape
from .session import RunSpec, State, lead_iteration, session_of
from .widgets import cell_options, config_from_widgets, sync_widgets

PRESET_CELLS = "cells"
PRESET_LR = "lr"
PRESET_STREAMS = "streams"


def preset_cells() -> list[str]:
    """The cells the cells preset trains: the registry's first MAX_RUNS, in its order."""
    return cell_options()[:state.MAX_RUNS]


# The button names exactly the cells it trains (read from the registry, so a new cell never goes missing quietly).
PRESETS = {PRESET_CELLS: " vs ".join(c.upper() for c in preset_cells()), PRESET_LR: "Two learning rates",
           PRESET_STREAMS: f"One stream vs {FAST['batch_size']} streams"}


def names(ss: State) -> list[str]:
    return session_of(ss).run_names()


def is_compare(ss: State) -> bool:
    return session_of(ss).is_compare


# ---- starting and changing a comparison ----------------------------------------------------
def default_lr2(lr: float) -> float:
    """The second rate the preset offers: ten times smaller, rounded to one significant digit."""
    x = lr / 10
    return float(f"{x:.1g}") if x > 0 else 0.01


def preset_configs(base: TrainConfig, preset: str, lr2: float | None = None) -> list[TrainConfig]:
    """The runs of a preset, all with `base`'s text-independent settings and seed."""
    if preset == PRESET_CELLS:
        return [replace(base, cell=c) for c in preset_cells()]
    if preset == PRESET_LR:
        lr2 = default_lr2(base.learning_rate) if lr2 is None else float(lr2)
        if not (math.isfinite(lr2) and lr2 > 0):
            raise ValueError(f"The second learning rate must be a positive number, not {lr2!r}.")
        if math.isclose(lr2, base.learning_rate):
            raise ValueError(f"Both learning rates are {lr2:g}: pick a different second rate to compare.")
        return [base, replace(base, learning_rate=lr2)]
    if preset == PRESET_STREAMS:  # min-char-rnn's training settings against the fast preset's
        return [replace(base, **preset_fields(MIN_CHAR_RNN)), replace(base, **preset_fields(FAST))]
    raise ValueError(f"Unknown comparison {preset!r}; choose one of {', '.join(PRESETS)}.")


def start_preset(ss: State, preset: str) -> None:
    """A preset button: replace the session's runs by the preset's, all at iteration 0, on the active text."""
    sess = session_of(ss)
    base_run = sess.active_run
    try:
        configs = preset_configs(config_from_widgets(ss), preset, ss.get("compare_lr2"))
        new = state.start_runs(ss, [RunSpec(base_run.source, base_run.text, asdict(cfg)) for cfg in configs])
    except ValueError as err:
        sess.notify("compare", "error", f"Could not start the comparison: {err}")
        return
    state.install(ss, new, 0)
    select(ss, 0)
    sess.notify("compare", "success",
                f"{PRESETS[preset]}: {len(new)} runs on “{md_escape(base_run.source)}”, seed {configs[0].seed}, "
                f"all at iteration 0. Train or Play advances them together.")


def add_current(ss: State) -> None:
    """"Add a run": the sidebar's settings, on the same text; caught up with the others by `catch_up`."""
    sess = session_of(ss)
    lead = lead_iteration(sess.runs)
    if len(sess.runs) >= state.MAX_RUNS:
        sess.notify("compare", "error", f"At most {state.MAX_RUNS} runs train side by side: remove one first.")
        return
    if lead > limits.MAX_ITERS_PER_CLICK:
        sess.notify("compare", "error",
                    f"The runs are at iteration {lead:,}: a new run would have to train that far to catch up "
                    f"(more than one long click, {limits.MAX_ITERS_PER_CLICK:,} iterations). Start a preset "
                    "instead: it begins every run from iteration 0.")
        return
    try:
        state.add_run(ss, config_from_widgets(ss))
    except ValueError as err:
        sess.notify("compare", "error", f"Could not add the run: {err}")
        return
    # The sidebar now shows the new run's settings, so select it: pending-change warnings stay truthful.
    select(ss, len(sess.runs) - 1)
    name = names(ss)[-1]
    sess.notify("compare", "success",
                f"Added {name}." + (f" It trains up to iteration {lead:,} first, to join the others." if lead else ""))


def remove(ss: State, index: int) -> None:
    """Drop run `index` (never the last one); the active run stays if it survives, else the first."""
    sess = session_of(ss)
    if len(sess.runs) <= 1 or not 0 <= index < len(sess.runs):
        return
    name = names(ss)[index]
    sess.remove(index)
    select(ss, sess.active)
    sess.notify("compare", "info", f"Removed {name}.")


def remove_active(ss: State) -> None:
    remove(ss, session_of(ss).active)


def leave(ss: State) -> None:
    """Keep only the active run: back to a single run, with its training so far."""
    sess = session_of(ss)
    if len(sess.runs) <= 1:
        return
    name = names(ss)[sess.active]
    sess.keep_only_active()
    select(ss, 0)
    sess.notify("compare", "info", f"Back to one run: {name}, with its training so far.")


def select(ss: State, index: int) -> None:
    """Make run `index` the one the single-run panels, the sidebar and the sample box show."""
    sess = session_of(ss)
    sess.select(index)
    ss["active_run"] = sess.active
    sync_widgets(ss, sess.trainer.config)


def on_pick(ss: State) -> None:
    """on_change of the `active_run` radio."""
    select(ss, ss.get("active_run", 0))


# ---- readouts and samples ------------------------------------------------------------------
def readouts(ss: State) -> list[dict]:
    """One row per run for the readout cards: name, iteration, smooth loss, bits/char, speed.

    Read from the mirrors the page froze for this script run, so the cards never show a lock-step group
    halfway through a chunk.
    """
    sess = session_of(ss)
    out = []
    for i, (run, name) in enumerate(zip(sess.runs, sess.run_names())):
        tr = run.trainer
        out.append(dict(index=i, name=name, active=i == sess.active,
                        iteration=tr.iteration, smooth_loss=tr.smooth_loss, bits_per_char=tr.bits_per_char,
                        speed=tr.iters_per_second, error=run.error, needs_reset=run.needs_reset,
                        chars_per_iteration=tr.config.batch_size * tr.config.seq_length))
    return out


def generate_all(ss: State) -> None:
    """Generate: one sample per run with the same seed character, length, temperature, top-k and seed.

    Session.sample is the active run's text; every run's lands in Session.samples_by_run.
    """
    sess = session_of(ss)
    seed_char = ss.get("seed_char") or sess.active_run.text[0]
    by_run = {}
    for run in sess.runs:
        try:
            text = state.sample_with_widgets(ss, run.trainer, seed_char)
        except ValueError as err:
            sess.notify("sample", "error", str(err))
            return
        by_run[run.run_id] = (seed_char, text)
    sess.samples_by_run = by_run
    sess.sample_seed_char, sess.sample = by_run[sess.active_run.run_id]


def samples(ss: State) -> list[tuple[int, str, str, str]]:
    """(run index, name, seed char, text) of the current runs' last Generate, in the runs' order."""
    sess = session_of(ss)
    out = []
    for i, (run, name) in enumerate(zip(sess.runs, sess.run_names())):
        if run.run_id in sess.samples_by_run:
            seed_char, text = sess.samples_by_run[run.run_id]
            out.append((i, name, seed_char, text))
    return out


__all__ = [
    "PRESETS", "PRESET_CELLS", "PRESET_LR", "PRESET_STREAMS", "names", "is_compare", "default_lr2", "preset_configs",
    "start_preset", "add_current", "remove", "remove_active", "leave", "select", "on_pick", "readouts",
    "generate_all", "samples",
]
