"""How fast does it learn? Held-out bits per character against wall-clock seconds of training.

    python bench/bench_learning.py                    # the sweep (~14 minutes) and the bar check
    python bench/bench_learning.py --seconds 10       # shorter runs
    python bench/bench_learning.py --bar-only         # only the check of the chosen defaults

Sweep: for each text, every setting (batch size B in 1, 8, 32, 64 x learning rates 0.1 and 0.05 with
Adagrad; Adam at B=32) trains a fresh RNN (H=100, T=25, seed 0, the last 10% of the text held out)
for `--seconds` of training time. The settings take turns in slices of ~1 s (round robin, one
process), so a slow moment of the machine hits them all alike. After each slice the held-out loss
(bits/char on up to 10,000 held-out characters, the page's measure) is recorded against the
training seconds spent so far; evaluation is not counted as training time.

Bar: on real English text, 15 s of training each, in one process (the two runs interleaved in the
same way): the FAST preset must reach a held-out loss at least 0.4 bits/char below MIN_CHAR_RNN.

Texts (nothing downloaded): the built-in prose and code, the GPL-3 licence and the first chapters of
Vim's user manual (plain English files every Debian system has). Like the CLI, the script pins BLAS
to one thread with threadpoolctl (see bench_engine.py for why); the environment is left alone.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rnn_core import TrainConfig, Trainer, load_text  # noqa: E402
from rnn_core.analysis_model import validation_loss  # noqa: E402
from rnn_core.presets import FAST, MIN_CHAR_RNN, preset_fields  # noqa: E402

LN2 = math.log(2)


def texts() -> dict[str, str]:
    out = {}
    for name, path in (("prose (built-in)", ROOT / "assets/prose.txt"), ("code (built-in)", ROOT / "assets/code.txt"),
                       ("English: GPL-3", Path("/usr/share/common-licenses/GPL-3"))):
        if path.exists():
            out[name] = load_text(path.read_bytes())
    manual = sorted(Path("/usr/share/vim/vim90/doc").glob("usr_0*.txt"))
    if manual:
        out["English: Vim manual ch. 1-9"] = load_text(b"".join(p.read_bytes() for p in manual))
    return out


def settings() -> dict[str, dict]:
    grid = {f"B={B} lr={lr}": dict(batch_size=B, learning_rate=lr) for B in (1, 8, 32, 64) for lr in (0.1, 0.05)}
    grid["B=32 adam lr=0.005"] = dict(batch_size=32, learning_rate=0.005, optimizer="adam")
    return grid


class Run:
    def __init__(self, text: str, fields: dict):
        self.tr = Trainer(text, TrainConfig(hidden_size=100, seq_length=25, seed=0, val_fraction=0.1,
                                            sample_every=0, **fields))
        self.seconds, self.points, self.chunk = 0.0, [(0.0, self.heldout())], 1

    def heldout(self) -> float:
        return validation_loss(self.tr.model, self.tr.val_data, self.tr.config.seq_length) / LN2

    def train_for(self, budget: float) -> None:
        """Train about `budget` seconds in chunks, then record the held-out loss."""
        spent = 0.0
        while spent < budget:
            t0 = time.perf_counter()
            self.tr.step(self.chunk)
            dt = time.perf_counter() - t0
            spent += dt
            self.chunk = max(1, int(self.chunk * (0.1 / max(dt, 1e-4)) ** 0.5 + 0.5))  # aim at ~0.1 s chunks
        self.seconds += spent
        self.points.append((self.seconds, self.heldout()))

    def at(self, seconds: float) -> float:
        """Held-out bits/char at the last record before `seconds` of training."""
        return [v for s, v in self.points if s <= seconds + 1e-9][-1]


def race(text: str, configs: dict[str, dict], seconds: float, slice_s: float = 1.0) -> dict[str, Run]:
    runs = {name: Run(text, f) for name, f in configs.items()}
    while min(r.seconds for r in runs.values()) < seconds - 1e-9:
        for r in runs.values():
            if r.seconds < seconds - 1e-9:
                r.train_for(min(slice_s, seconds - r.seconds))
    return runs


def table(title: str, runs: dict[str, Run], marks=(5, 10, 15, 30)) -> str:
    marks = [m for m in marks if m <= max(r.seconds for r in runs.values()) + 1e-6]
    lines = [f"\n{title}", "| setting | " + " | ".join(f"{m} s" for m in marks) + " | chars/s | iterations |",
             "|---|" + "---:|" * (len(marks) + 2)]
    best = {m: min(r.at(m) for r in runs.values()) for m in marks}
    for name, r in runs.items():
        cells = [f"**{r.at(m):.2f}**" if r.at(m) == best[m] else f"{r.at(m):.2f}" for m in marks]
        cps = r.tr.chars_seen / r.seconds
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {cps:,.0f} | {r.tr.iteration:,} |")
    return "\n".join(lines)


def plot(curves: dict[str, dict[str, list]], path: Path) -> str:
    """Held-out bits/char vs seconds, one panel per text, as a PNG: Plotly draws, Chromium renders.

    Plotly's static export needs kaleido, which is not installed; the figure is written as a
    self-contained HTML page (plotly.js inline, nothing fetched) and screenshotted by Debian's
    Chromium through Playwright, the same browser the e2e tests use.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(curves)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, shared_yaxes=False)
    palette = {1: "#1f77b4", 8: "#2ca02c", 32: "#d62728", 64: "#9467bd"}
    for col, text in enumerate(names, start=1):
        for name, pts in curves[text].items():
            B = int(name.split()[0].split("=")[1])
            dash = {"0.1": "solid", "0.05": "dash", "0.02": "dot"}.get(name.split("lr=")[-1], "dashdot")
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines", name=name,
                                     line=dict(color=palette.get(B, "#7f7f7f"), dash=dash, width=2),
                                     showlegend=col == 1, legendgroup=name), row=1, col=col)
        fig.update_xaxes(title_text="training seconds", row=1, col=col)
        # Held-out spikes (a run briefly sure of a wrong character) reach 20 bits/char; cut the axis
        # at the uniform guess (~6 bits) so the curves that matter stay readable.
        low = min(p[1] for pts in curves[text].values() for p in pts)
        fig.update_yaxes(range=[max(0.0, low - 0.2), 6.5], row=1, col=col)
    fig.update_yaxes(title_text="held-out bits/char", row=1, col=1)
    fig.update_layout(width=560 * len(names), height=520, template="plotly_white",
                      title="Held-out loss vs wall-clock training time (RNN, H=100, T=25; colour: batch size, "
                            "line: learning rate; dash-dot: Adam)")
    path = path.resolve()
    html = path.with_suffix(".html")
    fig.write_html(html, include_plotlyjs=True, full_html=True)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 560 * len(names), "height": 520})
            page.goto(html.as_uri())
            page.wait_for_selector(".main-svg")
            page.screenshot(path=str(path))
            browser.close()
        return f"plot written to {path}"
    except Exception as err:  # no browser: the tables are the result
        return f"no PNG ({err}); the tables above are the result"
    finally:
        html.unlink(missing_ok=True)


def bar(text_name: str, text: str, seconds: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """((min-char-rnn, fast) held-out bits/char at the end, (the same, the lowest of each run's curve))."""
    runs = race(text, {"min-char-rnn": preset_fields(MIN_CHAR_RNN), "fast": preset_fields(FAST)}, seconds)
    slow, fast = runs["min-char-rnn"].points, runs["fast"].points
    return (slow[-1][1], fast[-1][1]), (min(v for _, v in slow), min(v for _, v in fast))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="training seconds per setting on English text")
    ap.add_argument("--builtin-seconds", type=float, default=15.0, help="the same on the built-in texts")
    ap.add_argument("--bar-only", action="store_true")
    ap.add_argument("--texts", default="", help="comma-separated substrings of text names to sweep (default all)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "learning.png"))
    ap.add_argument("--json", default="", help="also save the curves here")
    ap.add_argument("--replot", default="", help="only redraw the plot from curves saved with --json")
    args = ap.parse_args(argv)
    if args.replot:
        print(plot(json.loads(Path(args.replot).read_text()), Path(args.out)))
        return 0
    all_texts = texts()
    print(f"numpy {np.__version__}; BLAS pinned to 1 thread (threadpoolctl); {time.strftime('%Y-%m-%d')}")
    with threadpool_limits(limits=1):
        if not args.bar_only:
            curves = {}
            for name, text in all_texts.items():
                if args.texts and not any(s in name for s in args.texts.split(",")):
                    continue
                runs = race(text, settings(), args.seconds if name.startswith("English") else args.builtin_seconds)
                print(table(f"{name} ({len(text):,} chars): held-out bits/char after N s of training", runs), flush=True)
                best = min(runs, key=lambda k: min(v for s, v in runs[k].points if s <= 30.0 + 1e-9))
                print(f"lowest held-out loss within the first 30 s: {best}", flush=True)
                curves[name] = {k: r.points for k, r in runs.items()}
            if args.json:
                Path(args.json).write_text(json.dumps(curves))
            print(plot(curves, Path(args.out)))
        # At the end of the 15 s, and the lowest point of each held-out curve on the way: on a small text
        # the fast settings pass their lowest point early and then overfit (the page's held-out curve turns up).
        print("\nBar: 15 s of training each, interleaved; held-out bits/char at 15 s (lowest on the way)")
        print("| text | min-char-rnn | fast | difference |\n|---|---:|---:|---:|")
        checks = {k: v for k, v in all_texts.items() if k.startswith("English")}
        licences = sorted(p for p in Path("/usr/share/common-licenses").glob("*") if p.is_file())
        if licences:  # ~200 KB of plain English prose, not used by the sweep
            checks["English: all of /usr/share/common-licenses"] = load_text(b"\n".join(p.read_bytes() for p in licences))
        chromium = Path("/usr/share/doc/chromium/copyright")
        if chromium.exists():
            checks["English: Chromium's copyright file"] = load_text(chromium.read_bytes())
        for name, text in checks.items():
            (slow, fast), (slow_low, fast_low) = bar(name, text, 15.0)
            print(f"| {name} ({len(text) // 1000} KB) | {slow:.2f} ({slow_low:.2f}) | {fast:.2f} ({fast_low:.2f}) "
                  f"| {slow - fast:+.2f} ({slow_low - fast_low:+.2f}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
