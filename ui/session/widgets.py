"""The settings widgets' keys and defaults, and the TrainConfig they describe.

Widget values live in `st.session_state` (a dict in tests) under these keys: the browser tests and
the URL rely on them. This module only reads and writes those keys; it knows nothing of runs.
"""
from __future__ import annotations

from typing import MutableMapping

from rnn_core import TrainConfig
from rnn_core.cells import CELLS
from rnn_core.presets import FAST

DEFAULT_CORPUS = "prose"
HOLD_OUT_FRACTION = 0.1      # widget "hold_out" (applies on Reset): the last 10% of the text is never trained on
RESET_FIELDS = ("cell", "hidden_size", "seq_length", "batch_size", "seed")  # need a new Trainer
FIELD_LABELS = {"cell": "cell", "hidden_size": "hidden size", "seq_length": "sequence length",
                "batch_size": "streams", "seed": "seed"}

# A first visit learns fast: the training settings come from the FAST preset (TrainConfig()'s own
# defaults are min-char-rnn's, one click away in the sidebar); the model's from TrainConfig().
_DEFAULT_CONFIG = TrainConfig()
WIDGET_DEFAULTS = {
    "corpus": DEFAULT_CORPUS,
    "n_iters": 100,
    "cell": _DEFAULT_CONFIG.cell,
    "hidden_size": _DEFAULT_CONFIG.hidden_size,
    "seq_length": _DEFAULT_CONFIG.seq_length,
    "seed": _DEFAULT_CONFIG.seed,
    "batch_size": FAST["batch_size"],
    "optimizer": FAST["optimizer"],
    "learning_rate": FAST["learning_rate"],
    "clip": float(FAST["clip"] or 0.0),
    "unit": "nats",
    "loss_smoothing": 0.95,  # the loss chart's bold line (ui/figures/loss.py: DEFAULT_SMOOTHING)
    "probe_pos": 0,
    "sample_length": 200,
    "temperature": 1.0,
    "greedy": False,
    "top_k": 0,
    "sample_seed": 0,
    "hold_out": False,
}


def cell_options() -> list[str]:
    """The cells the engine has, in the registry's (teaching) order."""
    return list(CELLS)


def config_from_widgets(ss: MutableMapping) -> TrainConfig:
    """The settings the sidebar shows now (validated)."""
    clip = float(ss["clip"])
    cfg = TrainConfig(
        cell=str(ss["cell"]), hidden_size=int(ss["hidden_size"]), seq_length=int(ss["seq_length"]),
        seed=int(ss["seed"]), batch_size=int(ss["batch_size"]), optimizer=str(ss["optimizer"]),
        learning_rate=float(ss["learning_rate"]),
        clip=clip if clip > 0 else None, val_fraction=HOLD_OUT_FRACTION if ss.get("hold_out") else 0.0,
    )
    cfg.validate()
    return cfg


def sync_widgets(ss: MutableMapping, cfg: TrainConfig) -> None:
    """Show a run's settings in the sidebar (call before the widgets are drawn: in a callback)."""
    for name in RESET_FIELDS + ("optimizer",):
        ss[name] = getattr(cfg, name)
    ss["learning_rate"] = float(cfg.learning_rate)
    ss["clip"] = float(cfg.clip or 0.0)
    ss["hold_out"] = cfg.val_fraction > 0


def changed_settings(ss: MutableMapping, cfg: TrainConfig) -> list[tuple[str, object, object]]:
    """Reset-required settings whose widget value differs from `cfg`: (label, now, on Reset)."""
    out = []
    for name in RESET_FIELDS:
        now, wanted = getattr(cfg, name), ss.get(name, getattr(cfg, name))
        if now != wanted:
            if name == "cell":
                now, wanted = now.upper(), str(wanted).upper()
            out.append((FIELD_LABELS[name], now, wanted))
    held = cfg.val_fraction > 0
    if bool(ss.get("hold_out", held)) != held:
        out.append(("validation hold-out", "on" if held else "off", "off" if held else "on"))
    return out


__all__ = ["WIDGET_DEFAULTS", "DEFAULT_CORPUS", "HOLD_OUT_FRACTION", "cell_options", "config_from_widgets",
           "sync_widgets", "changed_settings"]
