"""The page server's cost of the figures one Play redraw draws, as st.plotly_chart pays it.

    python bench/bench_figures.py                    # this tree against the figures before the one-go rewrite
    python bench/bench_figures.py --rounds 60 --before ""    # this tree only

Every visitor's page redraws about twice a second during Play, all in one server process (one GIL), so
the CPU of a redraw bounds how many visitors a machine serves. Per figure, one sample is: build the
figure as the panel does, then `fig.to_dict()` and `plotly.io.to_json(..., validate=False)`, which is
what st.plotly_chart does with a Figure. The figures are those of the page's defaults:
- loss: the panel's run_curves (smoothing 0.95) + loss_figure for one run with 20,000 iterations of
  history, 20 recorded samples, a held-out curve and the three counting baselines;
- heatmap: the hidden state (H=100) of a default-size network on the default probe text (the first 80
  characters of the built-in prose), with the glyph ticks and the yellow frame of the chosen position;
- bars: the next-character bars (top 10) at that position;
- compare: the loss figure of a 3-run group (20k, 12k, 6k iterations, each with a held-out curve).
A redraw of one visitor is loss + heatmap + bars (compare replaces loss in compare mode).

Payload: the JSON the redraw sends, after 1,000,000 iterations of loss history per run (the history
compacts and the chart thins its curves, so this must stay flat however long Play runs), for one run and
for a 3-run group, and with the longest probe text (400 characters).

`--before REV` loads ui/figures/ of that git revision (default: the last commit before the rewrite)
into a temporary package and times it in the same process, interleaved round by round with this
tree's; it also checks that both give the same JSON. Medians over rounds; the ratio is before / now.
"""
from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import plotly.io as pio  # noqa: E402

from assets.corpora import read_corpus  # noqa: E402
from rnn_core import TrainConfig, Trainer  # noqa: E402
from ui.figures.strips import glyph  # noqa: E402

BEFORE = "a2ab1ef"  # main just before the figures were built in one go
MODULES = ("__init__", "base", "loss", "probe", "strips", "heatmap_views", "insight")


def load_figures(rev: str, into: Path):
    """ui/figures/ as of git revision `rev`, imported as a package of its own (`figures_<rev>`)."""
    name = f"figures_{rev.replace('-', '_').replace('.', '_')}"
    pkg = into / name
    pkg.mkdir()
    for m in MODULES:
        src = subprocess.run(["git", "show", f"{rev}:ui/figures/{m}.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        (pkg / f"{m}.py").write_text(src)
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{name}.loss"), importlib.import_module(f"{name}.probe")


class History:
    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.iterations = np.arange(1, n + 1)
        self.loss = 60.0 * np.exp(-self.iterations / 4000.0) + 40.0 + 4.0 * rng.random(n)  # (n,) nats/seq


def inputs() -> dict:
    """The page's default situation: prose, a default network, its probe at position 0."""
    text = read_corpus("prose")
    tr = Trainer(text, TrainConfig())
    probe_text = text[:80]
    p = tr.probe(probe_text)
    hidden = np.round(np.asarray(p.hidden, dtype=np.float64) * 1024.0) / 1024.0  # the panel's on_grid
    samples = [(i * 1000, text[i * 300:i * 300 + 200]) for i in range(20)]
    held_out = lambda n: (list(range(500, n + 1, 500)), list(2.0 + np.exp(-np.arange(n // 500) / 10.0)))
    baselines = {"unigram": 3.2, "bigram": 2.5, "trigram": 2.0}
    names = ["RNN H=100 (fast)", "RNN lr=0.1 (fast)", "LSTM H=100 (fast)"]
    return dict(
        text=probe_text, hidden=hidden, probs=np.asarray(p.probs[0], dtype=np.float64), chars=tr.vocab.chars,
        seq_length=tr.config.seq_length, vocab_size=tr.vocab.size, samples=samples, baselines=baselines,
        one=[History(20_000, 0)], one_val=[("held-out", *held_out(20_000))],
        three=[History(20_000, 0), History(12_000, 1), History(6_000, 2)], names=names,
        three_val=[(f"{n} held-out", *held_out(k)) for n, k in zip(names, (20_000, 12_000, 6_000))],
    )


def redraw(loss_mod, probe_mod, d: dict, old: bool) -> dict:
    """The four figure builders as the panels call them; `old`: the panels' calls before the rewrite."""
    H = d["hidden"].shape[1]
    T = len(d["text"])

    def loss(histories, labels, names, val):
        series = loss_mod.run_curves(histories, labels, 0, smoothing=0.95)
        kw = dict(seq_length=d["seq_length"], vocab_size=d["vocab_size"], unit="nats", samples=d["samples"],
                  baselines=d["baselines"], validation=val)
        if old:
            fig = loss_mod.loss_figure(series, **kw)
            loss_mod.legend_order(fig, names)
            return fig
        return loss_mod.loss_figure(series, legend_names=names, **kw)

    def heatmap():
        title = f"Hidden state: {H} units (rows) × {T} characters read (columns)"
        ticks = [glyph(ch) for ch in d["text"]]
        if old:
            fig = probe_mod.hidden_heatmap(d["hidden"], d["text"], title=title)
            fig.update_xaxes(ticktext=ticks, tickangle=0 if T <= 90 else -90)
            fig.add_vrect(x0=-0.5, x1=0.5, line=dict(color="#ffc400", width=2.5), fillcolor="rgba(0,0,0,0)")
            return fig
        return probe_mod.hidden_heatmap(d["hidden"], d["text"], title=title, ticktext=ticks,
                                        tickangle=0 if T <= 90 else -90, frame=0)

    def bars():
        return probe_mod.prob_bars(d["probs"], d["chars"], true_next=d["text"][1], top_k=10,
                                   title="Next character after position 0: the 10 likeliest")

    return {
        "loss": lambda: loss(d["one"], ["training loss"], d["names"][:1], d["one_val"]),
        "heatmap": heatmap,
        "bars": bars,
        "compare": lambda: loss(d["three"], d["names"], d["names"], d["three_val"]),
    }


def as_sent(build) -> tuple[float, str]:
    """Seconds to build the figure and serialise it the way st.plotly_chart does; and the JSON."""
    t = time.perf_counter()
    spec = pio.to_json(build().to_dict(), validate=False)
    return time.perf_counter() - t, spec


def long_history(n: int, seed: int):
    """A run's LossHistory after n iterations (fed in chunks as the workers' ticks feed it)."""
    from rnn_core.history import LossHistory

    h, rng, step = LossHistory(), np.random.default_rng(seed), 10_000
    for start in range(1, n + 1, step):
        its = np.arange(start, min(start + step, n + 1))
        loss = 60.0 * np.exp(-its / 4000.0) + 40.0 + 4.0 * rng.random(len(its))
        h.extend(its, loss, loss)
    return h


def payload(d: dict) -> None:
    from rnn_core import limits
    from ui.figures import loss as loss_now, probe as probe_now
    from ui.panels.look_inside.hidden_state import heatmap_window

    long = [long_history(1_000_000, s) for s in range(3)]
    H = d["hidden"].shape[1]
    lo, hi = heatmap_window(limits.MAX_PROBE_CHARS, H, 0)   # the most of a 400-character probe the panel draws
    probe = (read_corpus("prose") * 2)[lo:hi]
    wide = {"text": probe, "hidden": np.round(np.random.default_rng(0).uniform(-1, 1, (len(probe), H)) * 1024) / 1024}
    for label, runs, names in (("one run", long[:1], d["names"][:1]), ("a 3-run group", long, d["names"])):
        figs = redraw(loss_now, probe_now, {**d, "one": runs, "three": runs}, old=False)
        kb = {f: len(as_sent(figs[f])[1]) / 1e3 for f in ("heatmap", "bars")}
        curve = len(as_sent(figs["loss" if len(runs) == 1 else "compare"])[1]) / 1e3
        big = len(as_sent(redraw(loss_now, probe_now, {**d, **wide}, old=False)["heatmap"])[1]) / 1e3
        print(f"payload, {label} after 1,000,000 iterations: loss chart {curve:,.0f} KB; per redraw "
              f"{curve + kb['heatmap'] + kb['bars']:,.0f} KB with the default probe, "
              f"{curve + big + kb['bars']:,.0f} KB with a {limits.MAX_PROBE_CHARS}-character one ({hi - lo} columns drawn)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--before", default=BEFORE, help="git revision to compare with ('' for none)")
    args = ap.parse_args()
    d = inputs()
    payload(d)
    from ui.figures import loss as loss_now, probe as probe_now
    impls = {"now": redraw(loss_now, probe_now, d, old=False)}
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            impls["before"] = redraw(*load_figures(args.before, Path(tmp)), d, old=True)
            for fig in impls["now"]:
                same = json.loads(as_sent(impls["now"][fig])[1]) == json.loads(as_sent(impls["before"][fig])[1])
                print(f"{fig}: same JSON as {args.before}: {same}")
        times = {(impl, fig): [] for impl in impls for fig in impls[impl]}
        for _ in range(3):  # warm-up: imports, plotly's validator caches
            for impl in impls:
                for fig, build in impls[impl].items():
                    as_sent(build)
        for r in range(args.rounds):
            order = list(impls) if r % 2 == 0 else list(impls)[::-1]
            for impl in order:
                for fig, build in impls[impl].items():
                    times[impl, fig].append(as_sent(build)[0])
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    figs = list(impls["now"])
    print(f"\nms per figure (build + to_dict + to_json), median of {args.rounds} rounds")
    print(f"{'figure':<28}" + "".join(f"{i:>10}" for i in impls) + ("   before/now" if "before" in impls else ""))
    redraws = {"redraw (loss+heatmap+bars)": ("loss", "heatmap", "bars"),
               "redraw, compare mode": ("compare", "heatmap", "bars")}
    rows = [(f, [med[i, f] for i in impls]) for f in figs]
    rows += [(name, [sum(med[i, f] for f in parts) for i in impls]) for name, parts in redraws.items()]
    for name, vals in rows:
        ratio = f"   {vals[1] / vals[0]:.2f}x" if len(vals) > 1 else ""
        print(f"{name:<28}" + "".join(f"{v:>10.2f}" for v in vals) + ratio)


if __name__ == "__main__":
    main()
