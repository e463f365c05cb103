"""Characters as HTML: one glyph per character, and text with each character's background coloured.

The strips are like the neuron pictures in Karpathy, Johnson & Fei-Fei, "Visualizing and
Understanding Recurrent Networks": blue for negative, white for zero, red for
positive (diverging), or white to orange-red for a per-character loss (sequential).
"""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np

_WHITE = (255, 255, 255)
_RED = (214, 39, 40)
_BLUE = (33, 102, 172)
_ORANGE_RED = (230, 85, 13)
_DARK_TEXT_UNTIL = 0.6  # above this intensity, white text reads better than dark
_BOX_STYLE = (
    "font-family:monospace;white-space:pre-wrap;line-height:1.6;"
    "font-size:14px;word-break:break-all;color:#222"
)


def _mix(end: tuple[int, int, int], t: float) -> str:
    r, g, b = (round(w + (e - w) * t) for w, e in zip(_WHITE, end))
    return f"#{r:02x}{g:02x}{b:02x}"


def _color(value: float, vmin: float, vmax: float, cmap: str) -> tuple[str, float]:
    """(background color, intensity 0..1) of one value."""
    if cmap == "sequential":
        span = vmax - vmin
        t = 0.0 if span <= 0 else (value - vmin) / span
        t = min(max(t, 0.0), 1.0)
        return _mix(_ORANGE_RED, t), t
    # diverging: white sits at 0 when the range straddles it, else at the middle
    mid = 0.0 if vmin < 0.0 < vmax else (vmin + vmax) / 2.0
    if value >= mid:
        t = 0.0 if vmax <= mid else (value - mid) / (vmax - mid)
        end = _RED
    else:
        t = 0.0 if vmin >= mid else (value - mid) / (vmin - mid)
        end = _BLUE
    t = min(max(t, 0.0), 1.0)
    return _mix(end, t), t


def glyph(ch: str, *, keep_blanks: bool = False) -> str:
    """One character as one visible glyph: newline ⏎, space ␣, tab ⇥, another control character ·.

    `keep_blanks`: space and tab stay themselves (running text, where ␣ between words would distract).
    """
    if ch == "\n":
        return "⏎"
    if ch in " \t":
        return ch if keep_blanks else {" ": "␣", "\t": "⇥"}[ch]
    return ch if ch.isprintable() else "·"


def char_strip_html(
    text: str,
    values: np.ndarray,
    *,
    vmin: float,
    vmax: float,
    cmap: str = "diverging",
    titles: Sequence[str] | None = None,
) -> str:
    """An HTML <div> with one <span> per character of `text`, colored by `values` (T,).

    Hovering a character shows titles[i], or its value when no titles are given.
    A newline is shown as '⏎' followed by a <br> (no raw newline in the output, so
    st.markdown cannot end the HTML block early). Every character and
    title is HTML-escaped, so any text is safe to pass to st.html / st.markdown.
    """
    if cmap not in ("diverging", "sequential"):
        raise ValueError(f"cmap must be 'diverging' or 'sequential', got {cmap!r}.")
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),):
        raise ValueError(f"values must have one entry per character: {len(text)} chars, shape {values.shape}.")
    if titles is not None and len(titles) != len(text):
        raise ValueError(f"titles must have one entry per character: {len(text)} chars, {len(titles)} titles.")
    parts = [f'<div style="{_BOX_STYLE}">']
    for i, ch in enumerate(text):
        v = float(values[i])
        if np.isnan(v):
            style, tip = "", "n/a"
        else:
            bg, t = _color(v, vmin, vmax, cmap)
            style = f"background:{bg}" + (";color:#fff" if t > _DARK_TEXT_UNTIL else "")
            tip = f"{v:.3f}"
        if titles is not None:
            tip = str(titles[i])
        tip = html.escape(tip, quote=True).replace("\n", "&#10;")
        attr = f' style="{style}"' if style else ""
        parts.append(f'<span{attr} title="{tip}">{html.escape(glyph(ch, keep_blanks=True), quote=False)}</span>')
        if ch == "\n":
            parts.append("<br>")
    parts.append("</div>")
    return "".join(parts)


_MONO_BOX = ("font-family:monospace;font-size:15px;background:#f6f6f8;border-radius:6px;"
             "word-break:break-all")


def context_html(text: str, pos: int, width: int = 48) -> str:
    """The probe text up to `pos` (the last `width` chars), the char at pos framed, the true next in red."""
    start = max(0, pos + 1 - width)
    seen = "".join("⏎" if c == "\n" else c for c in text[start:pos])
    cur = glyph(text[pos])
    nxt = glyph(text[pos + 1]) if pos + 1 < len(text) else ""
    return (
        f'<div style="{_MONO_BOX};padding:8px 10px;white-space:pre-wrap">'
        f'<span style="color:#888">{"…" if start else ""}{html.escape(seen)}</span>'
        f'<span style="outline:1.5px solid #222;background:#fff">{html.escape(cur)}</span>'
        f'<span style="color:#d62728;font-weight:bold"> → {html.escape(nxt) or "(end)"}</span></div>'
    )


def window_html(chars: str, pos: int | None = None) -> str:
    """A training window's characters; with `pos`, the input there framed green, the target (pos + 1) red."""
    cells = []
    for t, ch in enumerate(chars):
        shown = html.escape(glyph(ch))
        style = ""
        if pos is not None and t == pos:
            style = "outline:2px solid #2ca02c;background:#eaf6ea"
        elif pos is not None and t == pos + 1:
            style = "outline:2px solid #d62728;background:#fbeaea"
        cells.append(f'<span style="{style}">{shown}</span>' if style else shown)
    return f'<div style="{_MONO_BOX};padding:6px 10px;letter-spacing:1px">{"".join(cells)}</div>'


__all__ = ["glyph", "char_strip_html", "context_html", "window_html"]
