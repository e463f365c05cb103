"""Legend names that tell a group of runs apart, from their settings alone."""
from __future__ import annotations

from typing import Sequence

from rnn_core import TrainConfig

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


__all__ = ["run_names"]
