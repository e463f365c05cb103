"""The training presets on the page: which one a run (or the sidebar) matches, and the sidebar's switch.

A preset is a dict of TrainConfig fields (rnn_core/presets.py): streams, optimizer, learning rate,
clip. Picking one fills those four widgets; the optimizer, learning rate and clip apply to the running
model at once (as when typed), the number of streams needs a new model and waits for Reset, like the
hidden size. The switch shows whatever preset the sidebar's values match, or nothing ("custom").

The words here are for a learner: "32 streams read the text in parallel, one update per 32 windows".

Widget keys used here:
    settings_preset   str | None   the sidebar's switch ("fast", "min-char-rnn"; None = custom)
    batch_size        int          streams (applies on Reset)
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

from rnn_core import TrainConfig
from rnn_core.presets import FAST, MIN_CHAR_RNN, preset_fields

from .names import md_escape
from .session import State, session_of
from .widgets import config_from_widgets

PRESET_KEY = "settings_preset"
FAST_NAME, MIN_CHAR_RNN_NAME = "fast", "min-char-rnn"
PAGE_PRESETS = {FAST_NAME: FAST, MIN_CHAR_RNN_NAME: MIN_CHAR_RNN}   # the switch's order
LABELS = {FAST_NAME: f"Fast ({FAST['batch_size']} streams)", MIN_CHAR_RNN_NAME: "min-char-rnn, exactly"}
TAGS = {FAST_NAME: "fast", MIN_CHAR_RNN_NAME: "min-char-rnn"}      # in legend names: "RNN 32 streams (fast)"


def _matches(values: dict, preset: dict) -> bool:
    want = preset_fields(preset)
    clip = values["clip"] or 0.0
    return (int(values["batch_size"]) == want["batch_size"] and str(values["optimizer"]) == want["optimizer"]
            and math.isclose(float(values["learning_rate"]), want["learning_rate"], rel_tol=1e-12)
            and math.isclose(float(clip), float(want["clip"] or 0.0), rel_tol=1e-12))


def preset_of(cfg: TrainConfig) -> str | None:
    """The name of the preset `cfg`'s training settings are, or None (custom)."""
    values = {k: getattr(cfg, k) for k in ("batch_size", "optimizer", "learning_rate", "clip")}
    return next((name for name, p in PAGE_PRESETS.items() if _matches(values, p)), None)


def widget_preset(ss: State) -> str | None:
    """The preset the sidebar's values are now, or None (custom)."""
    try:
        values = {k: ss[k] for k in ("batch_size", "optimizer", "learning_rate", "clip")}
        return next((name for name, p in PAGE_PRESETS.items() if _matches(values, p)), None)
    except (KeyError, TypeError, ValueError):
        return None


def streams_phrase(cfg: TrainConfig) -> str:
    """What B means, in a learner's words."""
    B, T = cfg.batch_size, cfg.seq_length
    if B == 1:
        return f"one stream reads the text, one update per window of {T} characters"
    return f"{B} streams read the text in parallel, one update per {B} windows ({B * T:,} characters)"


def preset_phrase(cfg: TrainConfig) -> str:
    """The run caption's name for `cfg`'s training settings."""
    name = preset_of(cfg)
    if name == MIN_CHAR_RNN_NAME:
        # exactly min-char-rnn only with its cell; the same settings on a gated cell are "its settings"
        return "min-char-rnn exactly" if cfg.cell == "rnn" else "min-char-rnn's training settings"
    if name == FAST_NAME:
        return "fast preset"
    return "custom settings"


def apply_preset(ss: State) -> None:
    """on_change of the switch: fill streams, optimizer, learning rate and clip with the preset's values.

    The optimizer settings go to the running model now (as if typed); the streams wait for Reset, and a
    notice says which is which. Picking the selected option again (None) changes nothing.
    """
    from .state import apply_live_settings  # state imports this module (fitting streams to a text)
    name = ss.get(PRESET_KEY)
    if name not in PAGE_PRESETS:
        return
    fields = preset_fields(PAGE_PRESETS[name])
    ss["batch_size"] = fields["batch_size"]
    ss["optimizer"], ss["learning_rate"] = fields["optimizer"], float(fields["learning_rate"])
    ss["clip"] = float(fields["clip"] or 0.0)
    apply_live_settings(ss)
    sess = session_of(ss)
    B, now = fields["batch_size"], sess.trainer.config.batch_size
    later = ("" if B == now else
             f" The model still reads {now} stream{'s' if now != 1 else ''}: **{B} stream{'s' if B != 1 else ''}** "
             "start when you press **Reset & apply**.")
    sess.notify("settings", "info", f"{LABELS[name]}: {PAGE_PRESETS[name]['description']}. The optimizer, "
                                    f"learning rate and clip apply now.{later}")


def max_streams(n_chars: int, cfg: TrainConfig) -> int:
    """The most streams a text of `n_chars` characters can feed with `cfg` (each needs T + 1 characters)."""
    n_train = n_chars - int(n_chars * cfg.val_fraction)
    return max(1, n_train // (cfg.seq_length + 1))


def fit_streams(ss: State, text: str, source: str) -> tuple[TrainConfig, Callable[[], None]]:
    """The sidebar's settings for a new run on `text`, with fewer streams if the text is too short for the
    box's number; and `fitted()`, to call once the run exists: it sets the box to what the run reads and
    says why (the limits convention). Raises what config_from_widgets raises."""
    cfg = config_from_widgets(ss)
    most = max_streams(len(text), cfg)
    if cfg.batch_size <= most:
        return cfg, lambda: None

    def fitted() -> None:
        ss["batch_size"] = most
        session_of(ss).notify(
            "settings", "warning",
            f"Streams: “{md_escape(source)}” has {len(text):,} characters, too few for {cfg.batch_size} streams of "
            f"at least {cfg.seq_length + 1} characters each, so the box now says {most} and this run reads "
            f"{most} stream{'s' if most != 1 else ''}.")
    return replace(cfg, batch_size=most), fitted


__all__ = ["PRESET_KEY", "PAGE_PRESETS", "LABELS", "TAGS", "FAST_NAME", "MIN_CHAR_RNN_NAME", "preset_of",
           "widget_preset", "streams_phrase", "preset_phrase", "apply_preset", "max_streams", "fit_streams"]
