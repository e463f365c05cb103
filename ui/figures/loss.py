"""The loss curve: raw and smoothed training loss, reference lines, validation, samples.

The bold line is `debiased_ema` of the raw loss (TensorBoard's smoothing), not min-char-rnn's own
smooth loss: that one is an EMA with weight 0.999 started at the uniform-guess loss, so for the first
thousand or so iterations it reads far above what the model scores (on *hello world* it still says
20 nats when the raw loss is 0.1). The page keeps min-char-rnn's value as a readout.

Every series is decimated to a bounded number of points, so the figure a run of
1,000,000 iterations sends to the browser is no larger than one of 2,000.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from .base import PALETTE, REFERENCE_COLOR, axis, base_layout, color, compact_int, f32

LN2 = math.log(2.0)
_UNIT_SHORT = {"nats": "nats/seq", "bits": "bits/char"}
_BASELINE_DASHES = ("dot", "dashdot", "longdash", "longdashdot")
_MAX_SAMPLE_MARKERS = 40
_MAX_SAMPLE_HOVER_CHARS = 160
CURVE_POINTS = 1500  # points per loss curve the chart sends for ALL runs of a group together
DEFAULT_SMOOTHING = 0.95  # the smoothing slider's start: about 20 rows of memory, so the line follows within ~50
_EMA_SCALE_DIGITS = 15    # a block of the scan keeps w**-k below 10**15, so float64 keeps ~1e-15 relative precision


def debiased_ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """The exponential moving average with weight `smoothing`, corrected for its start (as TensorBoard draws).

    ema_t = w·ema_{t-1} + (1-w)·x_t from ema = 0, divided by (1 - w**n) after n points: the weighted
    mean of the points so far with weights w**age, so the line starts ON the first point instead of
    creeping up from zero (or down from a guess). smoothing 0 is the raw series. Non-finite points are
    passed through and left out of the average. Vectorised in blocks: `x_k·w**-k` summed within a block,
    rescaled by `w**t`, each block short enough for float64.
    """
    w = float(smoothing)
    if not 0.0 <= w < 1.0:
        raise ValueError(f"Smoothing must be from 0 (none) to below 1, not {smoothing!r}.")
    x = np.asarray(values, dtype=np.float64)  # (N,)
    out = x.copy()
    ok = np.isfinite(x)
    if w == 0.0 or not ok.any():
        return out
    v = x[ok]  # (M,) the finite points
    n = np.arange(1, len(v) + 1)
    block = int(min(4096, _EMA_SCALE_DIGITS * math.log(10) / -math.log(w)))
    if block < 32:  # a short memory: w**j is below 1e-17 after a few dozen terms, sum the shifted copies
        ema = np.zeros_like(v)
        for j in range(min(len(v), int(math.ceil(17 * math.log(10) / -math.log(w))) + 1)):
            ema[j:] += w ** j * v[: len(v) - j]
        out[ok] = (1 - w) * ema / (1.0 - w ** n)
        return out
    ema = np.empty_like(v)
    carry = 0.0  # the un-debiased average before the block
    for start in range(0, len(v), block):
        chunk = v[start:start + block]  # (B,)
        k = np.arange(len(chunk))
        grow = w ** -(k + 1.0)  # (B,) at most 10**15
        ema[start:start + len(chunk)] = (carry + (1 - w) * np.cumsum(chunk * grow)) / grow
        carry = float(ema[start + len(chunk) - 1])
    out[ok] = ema / (1.0 - w ** n)
    return out


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min-max decimation of a series to at most `max_points` points.

    The first and last points are always kept; the points between are cut into
    equal buckets and each bucket keeps its lowest and highest point, in x order,
    so a single spike survives however long the series is. NaNs are kept only when
    a whole bucket is NaN (they draw as a gap).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}.")
    n = len(x)
    if n <= max_points:
        return x, y
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2 to keep the first and last point, got {max_points}.")
    n_buckets = (max_points - 2) // 2
    if n_buckets == 0:
        idx = np.array([0, n - 1])
        return x[idx], y[idx]
    inner = np.asarray(y[1:-1], dtype=np.float64)  # (n-2,)
    size = -(-len(inner) // n_buckets)  # ceil: equal buckets, the last one may be shorter
    rows = -(-len(inner) // size)
    pad = rows * size - len(inner)
    lo_src = hi_src = inner
    nan = np.isnan(inner)
    if nan.any():
        lo_src, hi_src = np.where(nan, np.inf, inner), np.where(nan, -np.inf, inner)
    if pad:
        lo_src = np.concatenate([lo_src, np.full(pad, np.inf)])
        hi_src = np.concatenate([hi_src, np.full(pad, -np.inf)])
    lo_src, hi_src = lo_src.reshape(rows, size), hi_src.reshape(rows, size)
    start = np.arange(rows) * size
    pair = np.sort(np.stack([start + lo_src.argmin(axis=1), start + hi_src.argmax(axis=1)], axis=1), axis=1)
    keep = pair.ravel()
    keep = keep[np.r_[True, keep[1:] != keep[:-1]]] + 1  # drop min==max duplicates; shift past point 0
    idx = np.concatenate([[0], keep, [n - 1]])
    return x[idx], y[idx]


@dataclass
class LossSeries:
    """One run's loss history; `loss` and `smooth` are nats per sequence of seq_length chars."""

    name: str
    iterations: np.ndarray  # (N,) iteration numbers, increasing
    loss: np.ndarray  # (N,) raw loss of each iteration's window
    smooth: np.ndarray  # (N,) the bold line: the raw loss smoothed (run_curves: debiased_ema)
    color: str | None = None


def per_seq_factor(unit: str, seq_length: int) -> float:
    """Multiply a loss in nats per sequence by this to express it in `unit`."""
    if unit == "nats":
        return 1.0
    if unit == "bits":
        return 1.0 / (seq_length * LN2)
    raise ValueError(f"Unknown loss unit {unit!r}; choose 'nats' (per sequence) or 'bits' (per character).")


def loss_figure(
    runs: Sequence[LossSeries],
    *,
    seq_length: int,
    vocab_size: int,
    unit: str = "nats",
    max_points: int = 1500,
    baselines: Mapping[str, float] | None = None,
    validation: Sequence[tuple[str, np.ndarray, np.ndarray]] | None = None,
    samples: Sequence[tuple[int, str]] | None = None,
    legend_names: Sequence[str] | None = None,
) -> go.Figure:
    """Loss vs iteration for one or more runs, in nats/sequence or bits/character.

    `baselines` and `validation` losses are in nats per character. `samples` are
    (iteration, text) pairs shown as hover markers on the first run's smooth curve.
    `legend_names`: the runs' own order, kept in the legend whichever run is drawn first.
    """
    if seq_length < 1 or vocab_size < 1:
        raise ValueError(f"seq_length and vocab_size must be positive, got {seq_length} and {vocab_size}.")
    factor = per_seq_factor(unit, seq_length)
    per_char = seq_length * factor  # nats/char -> unit
    short = _UNIT_SHORT[unit]
    rank = {n: 100 + i for i, n in enumerate(legend_names)} if legend_names and len(legend_names) > 1 else {}
    traces: list[dict] = []

    spans: list[float] = []
    for i, run in enumerate(runs):
        its = np.asarray(run.iterations)
        if len(its) != len(run.loss) or len(its) != len(run.smooth):
            raise ValueError(f"Run {run.name!r}: iterations, loss and smooth must have the same length.")
        if len(its) == 0:
            continue
        spans += [float(its[0]), float(its[-1])]
        color = run.color or PALETTE[i % len(PALETTE)]
        order = dict(legendrank=rank[run.name]) if run.name in rank else {}
        rx, ry = downsample(its, np.asarray(run.loss, dtype=np.float64), max_points)
        sx, sy = downsample(its, np.asarray(run.smooth, dtype=np.float64), max_points)
        traces.append(dict(
            type="scatter",
            x=compact_int(rx), y=f32(ry * factor), mode="lines", name=f"{run.name} (raw)",
            legendgroup=run.name, line=dict(color=color, width=1), opacity=0.3, **order,
            hovertemplate=f"iteration %{{x}}<br>loss on this window %{{y:.3f}} {short}<extra>{html.escape(run.name)} (raw)</extra>",
        ))
        traces.append(dict(
            type="scatter",
            x=compact_int(sx), y=f32(sy * factor), mode="lines", name=run.name,
            legendgroup=run.name, line=dict(color=color, width=2), **order,
            hovertemplate=f"iteration %{{x}}<br>smoothed loss %{{y:.3f}} {short}<extra>{html.escape(run.name)}</extra>",
        ))

    for j, (name, its, val) in enumerate(validation or ()):
        its = np.asarray(its)
        if len(its) == 0:
            continue
        spans += [float(its[0]), float(its[-1])]
        vx, vy = downsample(its, np.asarray(val, dtype=np.float64), max_points)
        traces.append(dict(
            type="scatter",
            x=compact_int(vx), y=f32(vy * per_char), mode="lines+markers", name=name,
            line=dict(color=PALETTE[(len(runs) + j) % len(PALETTE)], width=1.5, dash="dot"),
            marker=dict(size=5),
            hovertemplate=f"iteration %{{x}}<br>held-out loss %{{y:.3f}} {short}<extra>{html.escape(name)}</extra>",
        ))

    x0, x1 = (min(spans), max(spans)) if spans else (0.0, 1.0)
    x1 = max(x1, x0 + 1)
    traces.append(_hline("uniform guess", seq_length * math.log(vocab_size) * factor, x0, x1, "dash",
                         f"uniform guess over {vocab_size} characters"))
    for k, (name, nats_per_char) in enumerate((baselines or {}).items()):
        traces.append(_hline(name, nats_per_char * per_char, x0, x1, _BASELINE_DASHES[k % len(_BASELINE_DASHES)],
                             f"{name} baseline (counting on the training text)"))

    if samples and runs and len(runs[0].iterations):
        traces.append(_sample_markers(runs[0], samples, factor))
    waiting = {} if spans else dict(annotations=[dict(
        text="Click Train to start", x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
        font=dict(size=16, color=REFERENCE_COLOR))])

    title = f"loss (nats per sequence of {seq_length} chars)" if unit == "nats" else "loss (bits per character)"
    layout = base_layout(
        360, showlegend=True, margin=dict(t=36), xaxis=axis("iteration"), yaxis=axis(title, rangemode="tozero"),
        legend=dict(orientation="h", x=0, y=1.02, yanchor="bottom", font=dict(size=11)), hovermode="closest",
        **waiting,
    )
    return go.Figure(data=traces, layout=layout)


def _hline(name: str, y: float, x0: float, x1: float, dash: str, words: str) -> dict:
    return dict(
        type="scatter",
        x=[x0, x1], y=f32([y, y]), mode="lines", name=name,
        line=dict(color=REFERENCE_COLOR, width=1.2, dash=dash),
        hovertemplate=f"{html.escape(words)}<br>%{{y:.3f}}<extra></extra>",
    )


def _sample_markers(run: LossSeries, samples: Sequence[tuple[int, str]], factor: float) -> dict:
    """Markers on the smooth curve whose hover shows the text sampled at that iteration."""
    pairs = sorted((int(it), str(s)) for it, s in samples)
    if len(pairs) > _MAX_SAMPLE_MARKERS:  # evenly spaced subset, always including the latest
        pick = np.unique(np.linspace(0, len(pairs) - 1, _MAX_SAMPLE_MARKERS).round().astype(int))
        pairs = [pairs[p] for p in pick]
    its = np.array([p[0] for p in pairs])
    y = np.interp(its, np.asarray(run.iterations, dtype=np.float64), np.asarray(run.smooth, dtype=np.float64))
    texts = [_hover_text(s) for _, s in pairs]
    return dict(
        type="scatter",
        x=compact_int(its), y=f32(y * factor), mode="markers", name="samples",
        marker=dict(symbol="diamond", size=7, color="white", line=dict(width=1.5, color=REFERENCE_COLOR)),
        customdata=texts, hovertemplate="iteration %{x}: sample<br>%{customdata}<extra></extra>",
    )


def _hover_text(sample: str) -> str:
    """A sample made safe for Plotly's hover labels: escaped, shortened, newlines shown as ⏎."""
    s = sample[:_MAX_SAMPLE_HOVER_CHARS] + ("…" if len(sample) > _MAX_SAMPLE_HOVER_CHARS else "")
    lines = [html.escape(line) for line in s.split("\n")]
    return "⏎<br>".join(lines)


def run_curves(histories: Sequence, labels: Sequence[str], active: int = 0,
               smoothing: float = DEFAULT_SMOOTHING) -> list[LossSeries]:
    """One LossSeries per run (each a History: iterations, loss), in its own colour, the ACTIVE first.

    The bold line of each is `debiased_ema(loss, smoothing)`, taken over the whole history before any
    thinning. loss_figure puts the sample-hover markers on its first series, and the samples passed with it are
    the active run's; its `legend_names` keeps the legend in the runs' own order.
    """
    n = len(histories)
    series = [_thinned(labels[i], h, color(i), n, smoothing) for i, h in enumerate(histories)]
    return [series[active]] + series[:active] + series[active + 1:] if 0 < active < n else series


def _thinned(name: str, history, colour: str, n_runs: int, smoothing: float) -> LossSeries:
    """A run's curve; with several runs, thinned first so the chart's payload does not grow with them.

    loss_figure keeps at most 1,500 points per curve (min-max decimation); three runs would send three
    times one run's bytes. Here each run keeps ~CURVE_POINTS / n_runs points per curve: the union of
    the min-max picks of its raw and its smooth loss, so spikes survive on both.
    """
    its, loss = history.iterations, history.loss
    smooth = debiased_ema(loss, smoothing)
    per_run = max(2, CURVE_POINTS // n_runs // 2)  # the union below is at most twice this
    if n_runs > 1 and len(its) > 2 * per_run:
        pos = np.arange(len(its))
        keep = np.union1d(downsample(pos, loss, per_run)[0], downsample(pos, smooth, per_run)[0])
        its, loss, smooth = its[keep], loss[keep], smooth[keep]
    return LossSeries(name, its, loss, smooth, color=colour)
