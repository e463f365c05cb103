"""Training in Ray workers against the bare engine: one run playing, and four groups playing at once.

    python bench/bench_workers.py              # ~40 s on 2 cores
    python bench/bench_workers.py --rounds 5 --seconds 3

No OPENBLAS_NUM_THREADS needed: the point is that the app pins BLAS itself (pin_blas here, and in
every worker). Each round, interleaved so a slow moment of the machine hits every figure:
  E      the engine alone: Trainer.step in this process, one thread, for `seconds`;
  one    one worker playing (a Group of one run): iterations by the wall clock while playing;
  four   four groups (four visitors) playing at once: iterations of each over the same wall-clock span.
Medians over the rounds; the issue's bars are one >= 0.6 E, four together >= 1.2 E (both cores busy),
and the slowest of the four >= 15% of their total. Default model of the page: RNN, H=100, T=25, prose.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assets.corpora import read_corpus  # noqa: E402
from rnn_core import TrainConfig, Trainer  # noqa: E402
from ui.session.cluster import ensure_ray, pin_blas  # noqa: E402
from ui.session.player import Group  # noqa: E402
from ui.session.pool import WorkerPool  # noqa: E402


def engine_rate(text: str, seconds: float) -> float:
    tr = Trainer(text, TrainConfig())
    tr.step(50)  # warm up
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.step(100)
        done += 100
    return done / (time.perf_counter() - t0)


def play_rates(groups: list[Group], seconds: float) -> list[float]:
    """Start every group, let them settle, then count each one's iterations over `seconds` of wall clock."""
    for g in groups:
        g.play()
    time.sleep(0.5)  # chunk sizes adapt from 1 iteration up to ~0.1 s
    start = [g.read()[0].iteration for g in groups]
    t0 = time.perf_counter()
    time.sleep(seconds)
    end = [g.read()[0].iteration for g in groups]
    elapsed = time.perf_counter() - t0
    for g in groups:
        g.pause()
    return [(e - s) / elapsed for s, e in zip(start, end)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()

    pin_blas()
    t0 = time.perf_counter()
    ensure_ray()
    print(f"Ray up in {time.perf_counter() - t0:.1f} s")
    text = read_corpus("prose")
    pool = WorkerPool(tempfile.mkdtemp(prefix="bench-runs-"), reaper=False)
    t0 = time.perf_counter()
    groups = [Group(pool, [pool.create(text=text, owner=f"visitor{i}")], owner=f"visitor{i}") for i in range(4)]
    print(f"4 workers ready in {time.perf_counter() - t0:.1f} s (pool capacity {pool.capacity})")

    E, one, four = [], [], []
    for r in range(args.rounds):
        E.append(engine_rate(text, args.seconds))
        one.append(play_rates(groups[:1], args.seconds)[0])
        four.append(play_rates(groups, args.seconds))
        print(f"round {r + 1}: E {E[-1]:,.0f} it/s | one playing {one[-1]:,.0f} | four playing "
              + " + ".join(f"{x:,.0f}" for x in four[-1]) + f" = {sum(four[-1]):,.0f}")
    for g in groups:
        g.pause()
    pool.close()

    e, o = statistics.median(E), statistics.median(one)
    total = statistics.median(sum(x) for x in four)
    slowest = statistics.median(min(x) / sum(x) for x in four)
    print(f"\nmedians over {args.rounds} rounds of {args.seconds:g} s")
    print(f"  E (engine, one thread, this process)   {e:8,.0f} it/s")
    print(f"  one worker playing                     {o:8,.0f} it/s   {o / e:5.2f} E   (bar >= 0.6 E)")
    print(f"  four groups playing, together          {total:8,.0f} it/s   {total / e:5.2f} E   (bar >= 1.2 E)")
    print(f"  slowest of the four, share of total    {slowest:8.1%}            (bar >= 15%)")


if __name__ == "__main__":
    main()
