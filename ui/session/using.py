"""Using a run without Streamlit: the probe's input text and the checkpoint download."""
from __future__ import annotations

from dataclasses import dataclass

from rnn_core import char_label, limits

from .session import Run, Session


@dataclass
class ProbeInput:
    text: str                 # what is probed: in-vocabulary characters only, at most MAX_PROBE_CHARS
    dropped: list[str]        # distinct characters removed because the model has never seen them
    truncated: bool


def clean_probe_text(trainer, raw: str) -> ProbeInput:
    """Keep the characters the model knows, up to MAX_PROBE_CHARS."""
    raw = raw or ""
    unknown = trainer.vocab.unknown(raw) if raw else []
    drop = set(unknown)  # built once, not once per character
    text = "".join(c for c in raw if c not in drop) if drop else raw
    truncated = len(text) > limits.MAX_PROBE_CHARS
    return ProbeInput(text[: limits.MAX_PROBE_CHARS], unknown, truncated)


def describe_chars(chars) -> str:
    return ", ".join(f"‘{char_label(c)}’" for c in chars)


def checkpoint_bytes(sess: Session, trainer) -> bytes:
    """The run as .npz bytes, written by its worker between two chunks, so weights and counters agree."""
    return trainer.checkpoint()


def checkpoint_filename(run: Run) -> str:
    src = "".join(c if c.isalnum() else "-" for c in run.source).strip("-") or "run"
    return f"char-rnn-{src}-{run.trainer.config.cell}-it{run.trainer.iteration}.npz"


__all__ = ["ProbeInput", "clean_probe_text", "describe_chars", "checkpoint_bytes", "checkpoint_filename"]
