"""Engine vs min-char-rnn's own loop: training iterations/s, batches, text encoding and sampling.

    python bench/bench_engine.py              # full run (~2 minutes)
    python bench/bench_engine.py --quick      # a few seconds, noisier
    python bench/bench_engine.py --breakdown  # plus where one iteration's time goes
    python bench/bench_engine.py --no-pin     # leave BLAS at its default thread count

The baseline is rnn_core/reference/seed_loop.py: min-char-rnn's training loop transcribed
operation for operation (column vectors, a one-hot vector per character, per-step dicts, np.dot,
two exps per softmax, Adagrad per parameter, clip 5). The per-time-step oracle used by the exactness
tests (rnn_core/reference/oracle.py) is a second, slower column. Everything runs in ONE process
and the sides are timed in interleaved rounds (engine block, seed block, oracle block, engine
block, ...), so a slow moment of the machine hits all; each figure is the median over rounds.

BLAS: the script pins OpenBLAS to one thread with threadpoolctl, as the command line
(`python -m rnn_core train`) does for its users; the environment is not touched. With --no-pin
BLAS keeps its default (one thread per core): on a busy 2-core machine every small product then
pays for thread hand-offs, and both sides run several times slower.
"""
from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rnn_core import TrainConfig, Trainer, Vocab  # noqa: E402
from rnn_core.reference.oracle import NaiveRNN  # noqa: E402
from rnn_core.reference.seed_loop import SeedLoop  # noqa: E402
from rnn_core.reference.texts import make_text, params_copy  # noqa: E402  (shared with the tests)

V = 65  # vocabulary size of the generated texts (about that of English prose with capitals)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(*fns, rounds: int) -> list[float]:
    """Median seconds per call of each function, timed in turn within every round."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for t, fn in zip(times, fns):
            t.append(_time(fn))
    return [statistics.median(t) for t in times]


def bench_train(H: int, T: int, rounds: int, e_iters: int, s_iters: int) -> tuple[float, float, float]:
    """Iterations/s of the engine, the seed loop and the oracle (same text, same initial weights)."""
    text = make_text(20_000, V, seed=1)
    tr = Trainer(text, TrainConfig(hidden_size=H, seq_length=T, sample_every=0))
    seed = SeedLoop(text, H, T, params=params_copy(tr.model))
    naive = NaiveRNN(text, hidden_size=H, seq_length=T, params=params_copy(tr.model))
    tr.step(e_iters)  # warm-up (also moves every side off the first, special, iteration)
    seed.step(s_iters)
    for _ in range(s_iters):
        naive.train_step()
    e, s, o = interleaved(lambda: tr.step(e_iters), lambda: seed.step(s_iters),
                          lambda: [naive.train_step() for _ in range(s_iters)], rounds=rounds)
    return e_iters / e, s_iters / s, s_iters / o


def bench_batches(batches, rounds: int, seconds: float = 0.25) -> dict[int, float]:
    """Characters/s of the engine at each batch size (H=100, T=25), interleaved."""
    text = make_text(200_000, V, seed=4)
    trs = {B: Trainer(text, TrainConfig(batch_size=B, sample_every=0)) for B in batches}
    iters = {}
    for B, tr in trs.items():
        tr.step(3)
        t = _time(lambda: tr.step(5)) / 5
        iters[B] = max(3, int(seconds / t))
    times = interleaved(*[(lambda tr=tr, n=iters[B]: tr.step(n)) for B, tr in trs.items()], rounds=rounds)
    return {B: iters[B] * 25 * B / t for B, t in zip(trs, times)}


def bench_encode(n_chars: int, rounds: int) -> tuple[float, float]:
    text = make_text(n_chars, V, seed=2)
    vocab = Vocab.from_text(text)
    index = vocab.index

    def naive():
        return np.array([index[c] for c in text], dtype=np.int64)

    assert np.array_equal(vocab.encode(text[:10_000]), naive()[:10_000])
    return tuple(interleaved(lambda: vocab.encode(text), naive, rounds=rounds))


def bench_sample(length: int, rounds: int) -> tuple[float, float]:
    text = make_text(6000, V, seed=3)
    tr = Trainer(text, TrainConfig(sample_every=0))
    tr.step(200)  # a model with some structure, not the uniform initial one
    naive = NaiveRNN(text, params=params_copy(tr.model))
    seeds = iter(range(10**6))
    return tuple(interleaved(lambda: tr.sample("e", length, seed=next(seeds)),
                             lambda: naive.sample("e", length, np.random.default_rng(next(seeds))), rounds=rounds))


def breakdown(H: int = 100, T: int = 25, reps: int = 300) -> list[tuple[str, float]]:
    """Microseconds per iteration spent in each part of Trainer.step (best of 5 repeats)."""
    import timeit

    text = make_text(6000, V, seed=1)
    tr = Trainer(text, TrainConfig(hidden_size=H, seq_length=T, sample_every=0))
    tr.step(50)
    m, d, st, p = tr.model, tr.data, tr.state.copy(), tr.model.params
    inp, tgt = d[:T], d[1 : T + 1]
    _, cache, _ = m.cell.forward(p, inp[:, None], st, True)   # the trainer's path: the cell's own buffers
    dh = np.random.default_rng(0).standard_normal((T, 1, H))
    dh_in = np.empty_like(dh)                    # one array each call, as train_window passes

    def backward():
        np.copyto(dh_in, dh)                     # backward makes dh the total in place
        m.cell.backward(p, cache, dh_in, m.grads)
    g = m.flat_grad
    w = m.flat.copy()
    opt = type(tr.optimizer)(w.size)

    def best(fn):
        return min(timeit.repeat(fn, number=reps, repeat=5)) / reps * 1e6

    parts = [
        ("whole iteration (Trainer.step(1))", best(lambda: tr.step(1))),
        ("  loss and gradients (grads_into_buffer)", best(lambda: m.grads_into_buffer(inp, tgt, st))),
        ("    cell forward (recurrence loop)", best(lambda: m.cell.forward(p, inp[:, None], st, True))),
        ("    cell backward (BPTT loop)", best(backward)),
        ("  clip", best(lambda: np.clip(g, -5, 5, out=g))),
        (f"  optimizer update ({tr.optimizer.name}, {w.size:,} params)", best(lambda: opt.update(w, g, 1e-12))),
        (f"  one (H,H) matrix-vector product (x{2 * T} per iteration)", best(lambda: np.dot(st, p["Whh"].T))),
    ]
    return parts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds (noisier)")
    ap.add_argument("--breakdown", action="store_true", help="also time the parts of one engine iteration")
    ap.add_argument("--no-pin", action="store_true", help="do not pin BLAS to one thread")
    args = ap.parse_args(argv)
    q = args.quick
    pin = contextlib.nullcontext() if args.no_pin else threadpool_limits(limits=1)
    with pin:
        parts = breakdown() if args.breakdown else []
        print(f"{time.strftime('%Y-%m-%d')}; numpy {np.__version__}, Python {platform.python_version()}, "
              f"{platform.machine()}, BLAS {'default threads' if args.no_pin else 'pinned to 1 thread (threadpoolctl)'}; "
              f"median of interleaved rounds{' (--quick)' if q else ''}\n")
        train_rows = []
        for H, T, e_it, s_it in ((100, 25, 400, 100), (256, 50, 60, 15)):
            e, s, o = bench_train(H, T, rounds=5 if q else 11, e_iters=e_it // (4 if q else 1),
                                  s_iters=s_it // (4 if q else 1))
            train_rows.append((f"H={H}, T={T}, V={V}", e, s, o))
        cps = bench_batches((1, 16, 64), rounds=5 if q else 11)
        n_enc = 3_000_000
        enc_e, enc_o = bench_encode(n_enc, rounds=2 if q else 5)
        smp_e, smp_o = bench_sample(1000, rounds=5 if q else 15)

    print("| training | engine it/s | min-char-rnn loop it/s | ratio | oracle it/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, e, s, o in train_rows:
        print(f"| {name} | {e:,.0f} | {s:,.0f} | **{e / s:.2f}x** | {o:,.0f} | {e / o:.2f}x |")
    print()
    print("| batch (H=100, T=25, V=65) | characters/s | vs B=1 |")
    print("|---|---:|---:|")
    for B, c in cps.items():
        print(f"| B={B} | {c:,.0f} | {c / cps[1]:.2f}x |")
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
