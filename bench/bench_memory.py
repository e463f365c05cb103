"""Memory of one session's run: how much a Trainer holds, and that a long run does not grow it.

    python bench/bench_memory.py           # ~1 minute
    python bench/bench_memory.py --quick   # a few seconds, smaller figures

1. Default size (H=100, T=25, Adagrad) on the built-in prose corpus: 2,000 real iterations, then
   the history is fed synthetic points up to 1,000,000 iterations (really training that long takes
   many minutes) and the sample list is filled as a long run fills it. The Trainer's deep size is
   summed over its attributes: ndarray.nbytes (views counted once, through their base) plus
   sys.getsizeof of everything else.
2. tracemalloc over a real 20,000-iteration run in ticks of 100 (as the page's Play does): the peak
   of traced allocations, and the traced memory still held at the end.
3. The largest run the limits allow (LSTM, H=512, 512 distinct characters, 5,000,000 characters of
   text, Adam), built but not trained: the ceiling per session.

Figures are the engine's only; the page adds its session state (figure specs, widget values).
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from dataclasses import is_dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assets.corpora import read_corpus  # noqa: E402
from rnn_core import TrainConfig, Trainer, limits  # noqa: E402
from rnn_core.checkpoint import to_bytes  # noqa: E402
from rnn_core.runstore import RunStore  # noqa: E402

MB = 1e6


def deep_size(obj, seen: set | None = None) -> int:
    """Bytes reachable from obj: arrays by their buffers (a view's base once), the rest by getsizeof."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type) or callable(obj) and not hasattr(obj, "__dict__"):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base is not obj:
            return sys.getsizeof(obj) - obj.nbytes * obj.flags.owndata + deep_size(base, seen)
        return sys.getsizeof(obj) + (0 if obj.flags.owndata else obj.nbytes)  # getsizeof counts owned data
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(deep_size(x, seen) for x in obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        size += deep_size(vars(obj), seen)
    elif is_dataclass(obj) and hasattr(obj, "__slots__"):
        size += sum(deep_size(getattr(obj, s), seen) for s in obj.__slots__)
    return size


def breakdown(tr: Trainer) -> dict[str, int]:
    """Deep size by part; `seen` is shared so nothing is counted twice (params are views of one buffer)."""
    seen: set = set()
    opt = tr.optimizer
    parts = {
        "parameters (flat buffer + views)": (tr.model.flat, tr.model.params),
        "gradient buffer": (tr.model.flat_grad, tr.model.grads),
        "optimizer state + scratch": opt,
        "text (str)": tr.text,
        "data ids (int64)": (tr.data, tr.val_data),
        "vocabulary": tr.vocab,
        "loss history": tr.history,
        "recorded samples": tr.samples,
        "carried state": tr.state,
    }
    sizes = {name: deep_size(obj, seen) for name, obj in parts.items()}
    sizes["everything else"] = deep_size(tr, seen)
    return sizes


def report(title: str, tr: Trainer) -> int:
    sizes = breakdown(tr)
    total = sum(sizes.values())
    print(f"\n{title}")
    for name, n in sizes.items():
        print(f"  {name:34s} {n / MB:9.3f} MB")
    print(f"  {'TOTAL (deep size of the Trainer)':34s} {total / MB:9.3f} MB")
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (figures for a shorter run)")
    args = ap.parse_args()
    real_iters, fed_to, traced_iters = (300, 100_000, 2_000) if args.quick else (2_000, 1_000_000, 20_000)

    text = read_corpus("prose")
    print(f"corpus: prose, {len(text):,} characters, numpy {np.__version__}, Python {sys.version.split()[0]}")

    # ---- 1. default size after a (simulated) long run ----------------------------------
    tr = Trainer(text, TrainConfig())
    print(f"default config: H={tr.config.hidden_size}, T={tr.config.seq_length}, V={tr.vocab.size}, "
          f"{tr.config.optimizer}, history cap {tr.history.cap:,} rows")
    fresh = report("fresh Trainer", tr)
    t0 = time.perf_counter()
    tr.step(real_iters)
    dt = time.perf_counter() - t0
    print(f"\ntrained {real_iters:,} real iterations in {dt:.1f} s ({real_iters / dt:,.0f} it/s)")
    report(f"after {real_iters:,} real iterations", tr)

    rng = np.random.default_rng(0)
    smooth, chunk = tr.smooth_loss, 1_000
    for start in range(real_iters + 1, fed_to + 1, chunk):
        its = np.arange(start, min(start + chunk, fed_to + 1))
        loss = 60.0 + rng.random(len(its))
        sm = smooth + np.cumsum(np.full(len(its), 0.0))
        tr.history.extend(its, loss, sm)
    tr.iteration = fed_to
    while len(tr.samples) < Trainer.MAX_SAMPLES:        # a long run has thinned samples up to the cap
        tr._record_sample()                              # real 201-character samples, each its own str
    long_run = report(f"after {fed_to:,} iterations (history fed synthetically, samples at the cap)", tr)
    print(f"  history: {len(tr.history):,} rows of {tr.history.cap:,}, stride {2 ** tr.history.compactions} "
          f"iterations per row, {tr.history.nbytes / MB:.2f} MB allocated once")
    print(f"  growth over the fresh Trainer: {(long_run - fresh) / MB:.3f} MB (history buffer is preallocated)")
    print(f"  checkpoint of this run: {len(to_bytes(tr)) / MB:.3f} MB compressed (download), "
          f"{len(to_bytes(tr, compress=False)) / MB:.3f} MB uncompressed (run store)")
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            store.save("0123456789ab", tr, {"corpus": "prose"})
            times.append(time.perf_counter() - t0)
        print(f"  run store save (atomic, fsync): median {sorted(times)[2] * 1e3:.0f} ms of 5")

    # ---- 2. tracemalloc over a real run ------------------------------------------------
    tracemalloc.start()
    t0 = time.perf_counter()
    tr2 = Trainer(text, TrainConfig())
    after_init = tracemalloc.get_traced_memory()[0]
    marks = []
    for done in range(0, traced_iters, 100):
        tr2.step(100)
        if (done + 100) % (traced_iters // 4) == 0:
            marks.append((done + 100, tracemalloc.get_traced_memory()[0]))
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dt = time.perf_counter() - t0
    print(f"\ntracemalloc, real run of {traced_iters:,} iterations in ticks of 100 ({dt:.1f} s, traced):")
    print(f"  after Trainer(): {after_init / MB:.3f} MB")
    for it, cur in marks:
        print(f"  held at iteration {it:>6,}: {cur / MB:.3f} MB")
    print(f"  peak during the run: {peak / MB:.3f} MB (held at the end: {current / MB:.3f} MB)")

    # ---- 3. the ceiling the limits allow --------------------------------------------------
    codes = np.random.default_rng(1).integers(0x100, 0x100 + limits.MAX_VOCAB, limits.MAX_TEXT_CHARS, dtype="<u4")
    big_text = codes.tobytes().decode("utf-32-le")       # 512 distinct two-byte characters (Python stores 2 B each)
    chars = "".join(sorted(set(big_text)))
    big = Trainer(big_text, TrainConfig(cell="lstm", hidden_size=limits.MAX_HIDDEN,
                                        seq_length=limits.MAX_SEQ_LENGTH, optimizer="adam"))
    big.samples = [(i, chars[i : i + Trainer.SAMPLE_LENGTH + 1]) for i in range(Trainer.MAX_SAMPLES)]
    report(f"largest run the limits allow (LSTM H={limits.MAX_HIDDEN}, V={limits.MAX_VOCAB}, "
           f"{limits.MAX_TEXT_CHARS:,} chars, Adam; history buffer full size)", big)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"\nprocess peak RSS (interpreter + numpy + everything above): {rss:,.0f} MiB")
    print(f"\nSUMMARY: one session at the default size after {fed_to:,} iterations holds "
          f"{long_run / MB:.1f} MB in its Trainer; a real {traced_iters:,}-iteration run peaks at "
          f"{peak / MB:.1f} MB traced.")


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
