"""Names on the page: legend names that tell runs apart, and `md_escape` for every name a visitor chose.

Streamlit draws st.markdown, st.caption, st.warning... and widget labels as Markdown (with its own
extras: `:red[...]`, `:material/...:`, emoji shortcodes, `$...$`). A file name, run title or link
value put into such a string must pass through `md_escape` first, or `![t](http://host/t.png).txt`
becomes an image every viewer's browser fetches. Streamlit has no public escape function, hence this one.
"""
from __future__ import annotations

import re
from typing import Sequence

from rnn_core import TrainConfig

_NAME_FIELDS = (  # besides cell and hidden size: what may tell two runs apart, as shown in a name
    ("batch_size", lambda c: "1 stream" if c.batch_size == 1 else f"{c.batch_size} streams"),
    ("learning_rate", lambda c: f"lr={c.learning_rate:g}"),
    ("optimizer", lambda c: c.optimizer),
    ("seq_length", lambda c: f"T={c.seq_length}"),
    ("seed", lambda c: f"seed {c.seed}"),
    ("clip", lambda c: f"clip {c.clip:g}" if c.clip else "no clip"),
)


# CommonMark lets a backslash escape every ASCII punctuation character, and an escaped one is never
# syntax: so escaping all of them (not a hand-picked few) also covers `:` (Streamlit's directives,
# icons and emoji), `&` (character references), `@` and `.` (autolinked addresses).
_ASCII_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # a newline would start a new block (a heading, a list, code)
# GFM's bare-address links (http://, www., mailto:, xmpp:, a@b.c) are found in the text AFTER escapes are
# resolved, so escaping cannot stop them: an empty `:small[]` (Streamlit's own directive, drawn as an
# empty <span>) splits the text right where such an address would start, and no address is left to find.
# (An HTML comment would not do: Streamlit shows raw HTML as text.)
_AUTOLINK = re.compile(r"(?i)(?:(?<=https)|(?<=http)|(?<=www)|(?<=mailto)|(?<=xmpp))(?=\\[:.])|(?=\\@)")
SPLIT = ":small[]"


def md_escape(text) -> str:
    """`text` as literal characters inside any Streamlit Markdown string: no link, image, HTML or format."""
    return _AUTOLINK.sub(SPLIT, _ASCII_PUNCT.sub(r"\\\1", _CONTROL.sub(" ", str(text))))


def run_names(configs: Sequence[TrainConfig]) -> list[str]:
    """Short legend names that tell the runs apart: "RNN H=100", "LSTM H=100", "RNN lr=0.1".

    The cell always; the hidden size when it differs or nothing else (but the cell) does; then every
    other setting that differs between the runs. Identical settings get "#2", "#3".
    """
    if not configs:
        return []

    def differs(name: str) -> bool:
        return len({getattr(c, name) for c in configs}) > 1

    differing = [name for name, _ in _NAME_FIELDS if differs(name)]
    # Runs that differ in their training preset (one stream vs 32) are named by it: "RNN 32 streams (fast)"
    # rather than by every field the preset sets.
    tags = _preset_tags(configs) if any(n in _PRESET_FIELDS for n in differing) else None
    if tags is not None:
        differing = [n for n in differing if n not in _PRESET_FIELDS or n == "batch_size"]
    extra = [fmt for name, fmt in _NAME_FIELDS if name in differing]
    show_h = differs("hidden_size") or not extra
    names = []
    for i, c in enumerate(configs):
        parts = [c.cell.upper()] + ([f"H={c.hidden_size}"] if show_h else []) + [fmt(c) for fmt in extra]
        if tags is not None:
            parts.append(f"({tags[i]})")
        names.append(" ".join(parts))
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out


_PRESET_FIELDS = ("batch_size", "learning_rate", "optimizer", "clip")


def _preset_tags(configs: Sequence[TrainConfig]) -> list[str] | None:
    """Each run's training preset ("fast", "min-char-rnn") if every run is one, and they differ in streams."""
    from .presets import TAGS, preset_of  # presets reaches the session, which imports this module
    found = [preset_of(c) for c in configs]
    if None in found or len({c.batch_size for c in configs}) < 2:
        return None
    return [TAGS[f] for f in found]


__all__ = ["SPLIT", "md_escape", "run_names"]
