"""Engine vs the naive oracle: training iterations/s, text encoding and sampling.

    OPENBLAS_NUM_THREADS=1 python bench/bench_engine.py          # full run (~1-2 minutes)
    OPENBLAS_NUM_THREADS=1 python bench/bench_engine.py --quick  # a few seconds, noisier
    OPENBLAS_NUM_THREADS=1 python bench/bench_engine.py --breakdown  # plus where one iteration's time goes

Everything runs in ONE process with BLAS pinned to one thread, and the two sides are timed in
interleaved rounds (engine block, oracle block, engine block, ...), so a slow moment of the machine
hits both; each figure is the median over rounds. The oracle is rnn_core/reference/oracle.py: min-char-rnn
written per time step with one-hot column vectors, as the seed notebook does it.
"""
from __future__ import annotations

import os

# Before numpy is imported anywhere: one BLAS/OpenMP thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rnn_core import TrainConfig, Trainer, Vocab  # noqa: E402
from tests.helpers_engine import make_text, naive_from_trainer  # noqa: E402

V = 65  # vocabulary size of the generated texts (about that of English prose with capitals)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(engine, oracle, rounds: int) -> tuple[float, float]:
    """Median seconds per call of each, timed alternately."""
    e, o = [], []
    for _ in range(rounds):
        e.append(_time(engine))
        o.append(_time(oracle))
    return statistics.median(e), statistics.median(o)


def bench_train(H: int, T: int, rounds: int, e_iters: int, o_iters: int) -> tuple[float, float]:
    text = make_text(6000, V, seed=1)
    tr = Trainer(text, TrainConfig(hidden_size=H, seq_length=T, sample_every=0))
    naive = naive_from_trainer(tr)
    tr.step(e_iters)  # warm-up (also moves both sides off the first, special, iteration)
    for _ in range(o_iters):
        naive.train_step()
    e, o = interleaved(lambda: tr.step(e_iters), lambda: [naive.train_step() for _ in range(o_iters)], rounds)
    return e_iters / e, o_iters / o


def bench_encode(n_chars: int, rounds: int) -> tuple[float, float]:
    text = make_text(n_chars, V, seed=2)
    vocab = Vocab.from_text(text)
    index = vocab.index

    def naive():
        return np.array([index[c] for c in text], dtype=np.int64)

    assert np.array_equal(vocab.encode(text[:10_000]), naive()[:10_000])
    return interleaved(lambda: vocab.encode(text), naive, rounds)


def bench_sample(length: int, rounds: int) -> tuple[float, float]:
    text = make_text(6000, V, seed=3)
    tr = Trainer(text, TrainConfig(sample_every=0))
    tr.step(200)  # a model with some structure, not the uniform initial one
    naive = naive_from_trainer(tr)
    seeds = iter(range(10**6))
    return interleaved(lambda: tr.sample("e", length, seed=next(seeds)),
                       lambda: naive.sample("e", length, np.random.default_rng(next(seeds))), rounds)


def breakdown(H: int = 100, T: int = 25, reps: int = 300) -> list[tuple[str, float]]:
    """Microseconds per iteration spent in each part of Trainer.step (best of 5 repeats)."""
    import timeit

    text = make_text(6000, V, seed=1)
    tr = Trainer(text, TrainConfig(hidden_size=H, seq_length=T, sample_every=0))
    tr.step(50)
    m, d, st, p = tr.model, tr.data, tr.state.copy(), tr.model.params
    inp, tgt = d[:T], d[1 : T + 1]
    fw = m.forward(inp, st)
    dh = np.random.default_rng(0).standard_normal((T, H))
    g = m.flat_grad
    w = m.flat.copy()
    opt = type(tr.optimizer)(w.size)

    def best(fn):
        return min(timeit.repeat(fn, number=reps, repeat=5)) / reps * 1e6

    parts = [
        ("whole iteration (Trainer.step(1))", best(lambda: tr.step(1))),
        ("  loss and gradients (grads_into_buffer)", best(lambda: m.grads_into_buffer(inp, tgt, st))),
        ("    cell forward (recurrence loop)", best(lambda: m.cell.forward(p, inp, st))),
        ("    cell backward (BPTT loop)", best(lambda: m.cell.backward(p, fw.cache, dh.copy(), m.grads))),
        ("  clip", best(lambda: np.clip(g, -5, 5, out=g))),
        (f"  optimizer update ({tr.optimizer.name}, {w.size:,} params)", best(lambda: opt.update(w, g, 1e-12))),
        (f"  one (H,H) matrix-vector product (x{2 * T} per iteration)", best(lambda: np.dot(p["Whh"], st))),
    ]
    return parts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds (noisier)")
    ap.add_argument("--breakdown", action="store_true", help="also time the parts of one engine iteration")
    args = ap.parse_args(argv)
    q = args.quick
    with threadpool_limits(limits=1):
        parts = breakdown() if args.breakdown else []
        print(f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}, "
              f"BLAS threads pinned to 1; median of interleaved rounds{' (--quick)' if q else ''}\n")
        train_rows = []
        for H, T, e_it, o_it in ((100, 25, 400, 80), (256, 50, 100, 20)):
            e, o = bench_train(H, T, rounds=5 if q else 15, e_iters=e_it // (4 if q else 1),
                               o_iters=o_it // (4 if q else 1))
            train_rows.append((f"H={H}, T={T}, V={V}", e, o))
        n_enc = 3_000_000
        enc_e, enc_o = bench_encode(n_enc, rounds=2 if q else 5)
        smp_e, smp_o = bench_sample(1000, rounds=5 if q else 15)

    print("| config | engine it/s | oracle it/s | ratio |")
    print("|---|---:|---:|---:|")
    for name, e, o in train_rows:
        print(f"| train {name} | {e:,.0f} | {o:,.0f} | {e / o:.2f}x |")
    print()
    print("| task | engine ms | naive ms | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| encode {n_enc / 1e6:.0f} M chars (Vocab.encode vs per-char dict loop) | {enc_e * 1e3:.1f} | "
          f"{enc_o * 1e3:.1f} | {enc_o / enc_e:.1f}x |")
    print(f"| sample 1000 chars, H=100 (Trainer.sample vs one-hot + rng.choice) | {smp_e * 1e3:.1f} | "
          f"{smp_o * 1e3:.1f} | {smp_o / smp_e:.2f}x |")
    if parts:
        print(f"\n| engine iteration, H=100, T=25, V={V} | us |")
        print("|---|---:|")
        for name, us in parts:
            print(f"| {name} | {us:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
