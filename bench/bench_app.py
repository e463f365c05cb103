"""The page's cost beyond training: server-side rerun overhead and chart payload per rerun.

    python bench/bench_app.py            # ~30 s
    python bench/bench_app.py --rounds 3 # quicker, noisier
    python bench/bench_app.py --compare  # compare mode: RNN, LSTM, GRU at H=100

Overhead: the page runs under Streamlit's AppTest (the same script, widgets and charts as in the
browser, without the network). Each round clicks Train with n_iters=1000 at H=100 on the prose
corpus and times `at.run()`; the training inside it is the time the app itself measured around
Trainer.step (session_of(ss).last_train["seconds"]); the rest is the rerun overhead (widgets, probe, figure
building, Plotly JSON, protobufs, AppTest's own parsing). Rounds interleave the app click with a bare
`Trainer.step(1000)` on a separate trainer, so a slow moment of the machine hits both; the figures
are medians. Target: overhead under 30% of the bare 1,000-iteration training time.

Payload: the sum of the Plotly specs (JSON) the rerun sends, at 1,000 iterations and after feeding
1,000,000 more points into the loss history (the history compacts and the chart downsamples, so the
figure must not grow). Target: under 300 KB, and flat.

Play: a few Play ticks (AppTest runs the whole script on each, so this is an upper bound of the
fragment's tick): wall time per tick, the iterations and training time inside it, against the
tick interval. With --compare the page runs the "RNN vs LSTM vs GRU" preset (three runs in lock
step, H=100) and the bare side is the three trainers stepping one after the other.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from assets.corpora import read_corpus  # noqa: E402
from rnn_core import TrainConfig, Trainer  # noqa: E402
from ui.session import training  # noqa: E402
from ui.session.session import session_of  # noqa: E402

APP = str(ROOT / "streamlit_app.py")
N_ITERS = 1000
LONG_POINTS = 1_000_000


def chart_sizes(at: AppTest) -> dict[str, int]:
    out = {}
    for c in at.get("plotly_chart"):
        key = c.proto.id.rsplit("-", 1)[-1]
        out[key] = len(c.proto.spec)
    return out


def timed_run(at: AppTest) -> float:
    t0 = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--compare", action="store_true", help="three runs: RNN, LSTM, GRU (the compare preset)")
    args = ap.parse_args()
    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)  # AppTest's "missing ScriptRunContext" chatter

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert session_of(at.session_state).trainer.config.hidden_size == 100
    at.number_input(key="n_iters").set_value(N_ITERS)
    at.run()
    cells = ("rnn", "lstm", "gru") if args.compare else ("rnn",)
    if args.compare:
        at.button(key="compare_cells").click()
        timed_run(at)
        assert [r.trainer.config.cell for r in session_of(at.session_state).runs] == list(cells)
    bares = [Trainer(read_corpus("prose"), TrainConfig(hidden_size=100, cell=c)) for c in cells]
    for bare in bares:
        bare.step(50)  # warm caches on both sides
    at.button(key="train").click()
    timed_run(at)
    sizes_first, it_first = chart_sizes(at), session_of(at.session_state).trainer.iteration

    train_s, click_s, inside_s, plain_s = [], [], [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for bare in bares:
            bare.step(N_ITERS)
        train_s.append(time.perf_counter() - t0)
        at.button(key="train").click()
        click_s.append(timed_run(at))
        inside_s.append(session_of(at.session_state).last_train["seconds"])
        plain_s.append(timed_run(at))  # a rerun with no training (e.g. moving a slider)
    overhead = [c - i for c, i in zip(click_s, inside_s)]

    # Play: one tick to measure the speed, then timed ticks.
    at.button(key="play").click()
    timed_run(at)
    tick_s, tick_train_s, tick_iters = [], [], []
    for _ in range(6):
        tick_s.append(timed_run(at))
        tick_train_s.append(session_of(at.session_state).last_train["seconds"])
        tick_iters.append(session_of(at.session_state).last_train["iters"])
    at.button(key="play").click()
    timed_run(at)

    tr = session_of(at.session_state).trainer
    sizes_1k = chart_sizes(at)
    it_1k = tr.iteration
    # A long run: a million more points into every run's loss history, then a plain rerun.
    rng = np.random.default_rng(0)
    for run in session_of(at.session_state).runs:
        t = run.trainer
        start = t.iteration + 1
        its = np.arange(start, start + LONG_POINTS)
        loss = 60 + 10 * rng.standard_normal(LONG_POINTS)
        smooth = np.linspace(t.smooth_loss, 40.0, LONG_POINTS)
        t.history.extend(its, loss, smooth)
        t.iteration += LONG_POINTS
    long_s = statistics.median(timed_run(at) for _ in range(3))
    sizes_long = chart_sizes(at)

    med = statistics.median
    # The denominator is the smaller of the two training medians (bare and in-app), so a slow
    # moment on either side can only make the ratio look worse, never better.
    ratio = med(overhead) / min(med(train_s), med(inside_s))
    rows = [
        (f"bare Trainer.step({N_ITERS}), H=100, {'+'.join(cells)}", f"{med(train_s) * 1e3:8.1f} ms", ""),
        (f"app rerun after Train ({N_ITERS} its)", f"{med(click_s) * 1e3:8.1f} ms", ""),
        ("  of which training (measured in app)", f"{med(inside_s) * 1e3:8.1f} ms", ""),
        ("  overhead beyond training", f"{med(overhead) * 1e3:8.1f} ms",
         f"{ratio:6.1%} of training (smaller median)  (target < 30%: {'OK' if ratio < 0.30 else 'MISSED'})"),
        ("app rerun without training", f"{med(plain_s) * 1e3:8.1f} ms", ""),
        (f"Play tick (whole script in AppTest), {med(tick_iters):.0f} its", f"{med(tick_s) * 1e3:8.1f} ms",
         f"of which training {med(tick_train_s) * 1e3:.0f} ms; interval {training.PLAY_INTERVAL_S * 1e3:.0f} ms "
         f"({'OK' if max(tick_s) < training.PLAY_INTERVAL_S else 'MISSED'}: slowest {max(tick_s) * 1e3:.0f} ms)"),
        (f"app rerun after {LONG_POINTS:,} more points", f"{long_s * 1e3:8.1f} ms", ""),
        (f"chart specs per rerun @ {it_first:,} its", f"{sum(sizes_first.values()) / 1e3:8.1f} KB",
         "  ".join(f"{k} {v / 1e3:.1f}" for k, v in sizes_first.items())),
        (f"chart specs per rerun @ {it_1k:,} its", f"{sum(sizes_1k.values()) / 1e3:8.1f} KB",
         "  ".join(f"{k} {v / 1e3:.1f}" for k, v in sizes_1k.items())),
        (f"chart specs per rerun @ {tr.iteration:,} its", f"{sum(sizes_long.values()) / 1e3:8.1f} KB",
         "  ".join(f"{k} {v / 1e3:.1f}" for k, v in sizes_long.items())),
    ]
    total_long = sum(sizes_long.values())
    print(f"bench_app{' --compare' if args.compare else ''}: {len(cells)} run(s), {args.rounds} interleaved rounds, medians; history {len(tr.history):,} points kept "
          f"({tr.history.compactions} compactions)")
    w = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{w}}  {value}  {note}")
    print(f"  payload target < 300 KB: {'OK' if total_long < 300_000 else 'MISSED'}; growth from "
          f"{it_first:,} to {tr.iteration:,} its: {total_long - sum(sizes_first.values()):+,} bytes")


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
