"""Number fields that say their limits when they are hit, without Streamlit.

A number box with `min_value`/`max_value` refuses an out-of-range entry in the browser: it turns red,
keeps its old value and the button next to it runs that old value without a word (typing 20,000
iterations ran the previous 100). So the page's number boxes take any number, and their `on_change`
is `clamp`: a value outside the field's range is set to the nearest bound and a notice in the field's
panel says what was typed, what the limit is and what the box holds now. Nothing runs on a value the
person did not see.
"""
from __future__ import annotations

import math

from rnn_core import limits

from .session import State, session_of

DEFAULT_TOO_HIGH = "{what}: at most {bound}; {typed} was typed, so the box now says {bound}."
DEFAULT_TOO_LOW = "{what}: at least {bound}; {typed} was typed, so the box now says {bound}."


def _fmt(x) -> str:
    if isinstance(x, float) and not x.is_integer():
        return f"{x:g}"
    return f"{int(x):,}"


def clamp(ss: State, key: str, lo, hi, area: str, what: str, too_high: str = DEFAULT_TOO_HIGH,
          then=None) -> bool:
    """Keep ss[key] within [lo, hi] (either may be None), with a notice for `area` when it moved.

    `what` names the field in the notice ("Hidden units"); `too_high` may give a fuller sentence
    (placeholders {what}, {typed}, {bound}). `then(ss)` runs afterwards, on the value now in the box
    (e.g. apply the new learning rate). Returns True if the value was changed.
    """
    value = ss.get(key)
    moved = False
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ss[key] = value = lo if lo is not None else hi
        moved = True
    elif hi is not None and value > hi:
        session_of(ss).notify(area, "warning", too_high.format(what=what, typed=_fmt(value), bound=_fmt(hi)))
        ss[key], moved = type(value)(hi), True
    elif lo is not None and value < lo:
        session_of(ss).notify(area, "warning", DEFAULT_TOO_LOW.format(what=what, typed=_fmt(value), bound=_fmt(lo)))
        ss[key], moved = type(value)(lo), True
    if then is not None:
        then(ss)
    return moved


BATCH_CHARS_TOO_HIGH = ("{what}: at most {bound} {with_}, because streams × sequence length is at most "
                        f"{limits.MAX_BATCH_CHARS:,} characters per iteration; {{typed}} was typed, so the box now "
                        "says {bound}.")


def _int_of(ss: State, key: str) -> int:
    try:
        return max(1, int(ss.get(key) or 1))
    except (TypeError, ValueError, OverflowError):
        return 1


def clamp_streams(ss: State, then=None) -> bool:
    """The streams box: 1..MAX_BATCH, and streams × the sidebar's sequence length within MAX_BATCH_CHARS."""
    T = _int_of(ss, "seq_length")
    hi = min(limits.MAX_BATCH, limits.MAX_BATCH_CHARS // T)
    too_high = DEFAULT_TOO_HIGH if hi == limits.MAX_BATCH else \
        BATCH_CHARS_TOO_HIGH.replace("{with_}", f"with windows of {T} characters")
    return clamp(ss, "batch_size", 1, hi, "settings", "Streams", too_high, then)


def clamp_seq_length(ss: State, then=None) -> bool:
    """The sequence-length box: 1..MAX_SEQ_LENGTH, and the sidebar's streams × it within MAX_BATCH_CHARS."""
    B = _int_of(ss, "batch_size")
    hi = min(limits.MAX_SEQ_LENGTH, limits.MAX_BATCH_CHARS // B)
    too_high = DEFAULT_TOO_HIGH if hi == limits.MAX_SEQ_LENGTH else \
        BATCH_CHARS_TOO_HIGH.replace("{with_}", f"with {B} streams")
    return clamp(ss, "seq_length", 1, hi, "settings", "Sequence length", too_high, then)


__all__ = ["clamp", "clamp_streams", "clamp_seq_length", "DEFAULT_TOO_HIGH", "DEFAULT_TOO_LOW"]
