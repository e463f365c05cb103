"""Training speed per cell: the vectorized engine against a naive per-timestep implementation.

    python bench/bench_cells.py [--rounds 7] [--hidden 100] [--seq-length 25]

One process; BLAS pinned to one thread with threadpoolctl inside the script (as the command line
does for its users; the environment is left alone). For the RNN the baseline is min-char-rnn's own
loop (rnn_core/reference/seed_loop.py); the seed has no LSTM or GRU loop, so those compare with the
naive cells written in the same per-time-step style. Each round times every (cell, implementation) pair once, in the
same order, so drifts in machine speed hit all of them alike; the table reports medians over
rounds. One iteration is a full training step on a window of T characters: forward, backward,
clip to [-5, 5], Adagrad (engine: Trainer.step; naive: SeedLoop for the RNN and
rnn_core/reference/naive_cells.py's NaiveLSTM / NaiveGRU, which do the same work per time step with
one-hot vectors). The text is random over 65 printable characters (V = 65, like tiny-shakespeare).
"""
from __future__ import annotations

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core import TrainConfig, Trainer  # noqa: E402
from rnn_core.reference.naive_cells import NAIVE  # noqa: E402
from rnn_core.reference.seed_loop import SeedLoop  # noqa: E402

CELLS = ("rnn", "lstm", "gru")


def make_text(n: int = 20_000, V: int = 65) -> str:
    rng = np.random.default_rng(0)
    alphabet = [chr(c) for c in range(33, 33 + V)]
    return "".join(rng.choice(alphabet, n))


def make_pair(cell: str, text: str, H: int, T: int):
    """(engine step function, naive step function), both starting from the same weights."""
    tr = Trainer(text, TrainConfig(cell=cell, hidden_size=H, seq_length=T, sample_every=0))
    params = {k: v.copy() for k, v in tr.model.params.items()}
    if cell == "rnn":
        seed = SeedLoop(text, H, T, params=params)
        return (lambda n: tr.step(n)), seed.step
    naive = NAIVE[cell](text, hidden_size=H, seq_length=T, params=params)
    return (lambda n: tr.step(n)), (lambda n: [naive.train_step() for _ in range(n)])


def rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--seq-length", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=0.4, help="rough time per measurement")
    args = ap.parse_args(argv)
    text = make_text()
    H, T = args.hidden, args.seq_length
    runs = {}
    for cell in CELLS:
        engine, naive = make_pair(cell, text, H, T)
        engine(5), naive(2)  # warm up
        # Iterations per measurement from a first guess at the speed, fixed for all rounds.
        runs[cell] = [(fn, max(3, int(args.seconds * rate(fn, 5)))) for fn in (engine, naive)]
    samples = {(cell, k): [] for cell in CELLS for k in (0, 1)}
    for _ in range(args.rounds):
        for cell in CELLS:
            for k, (fn, n) in enumerate(runs[cell]):
                samples[cell, k].append(rate(fn, n))
    print(f"H={H}, T={T}, V=65, {args.rounds} rounds, medians; numpy {np.__version__}, "
          f"Python {platform.python_version()}, BLAS pinned to 1 thread (threadpoolctl)\n")
    print("| cell | engine it/s | naive it/s (rnn: min-char-rnn's loop) | speedup |")
    print("|---|---:|---:|---:|")
    for cell in CELLS:
        e, nv = statistics.median(samples[cell, 0]), statistics.median(samples[cell, 1])
        print(f"| {cell} | {e:,.0f} | {nv:,.0f} | {e / nv:.1f}x |")


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
