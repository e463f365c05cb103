"""Command line: train on a text file, or sample from a saved run.

    python -m rnn_core train input.txt --iters 5000 --out run.npz
    python -m rnn_core train input.txt --iters 2000 --batch-size 32 --lr 0.05 --out run.npz
    python -m rnn_core sample run.npz --seed-char a --length 200 --temperature 0.8
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import DivergenceError, TrainConfig, Trainer, load_text


def _train(args) -> int:
    text = load_text(Path(args.file).read_bytes())
    if args.resume and Path(args.out).exists():
        tr = Trainer.load(args.out)
    else:
        cfg = TrainConfig(cell=args.cell, hidden_size=args.hidden, seq_length=args.seq_length,
                          learning_rate=args.lr, optimizer=args.optimizer, clip=args.clip, seed=args.seed,
                          batch_size=args.batch_size)
        tr = Trainer(text, cfg)
    print(f"{len(text):,} characters, {tr.vocab.size} distinct; {tr.config}", file=sys.stderr)
    from threadpoolctl import threadpool_limits  # the CLI's own dependencies; the engine needs only numpy
    from tqdm import tqdm

    chunk = max(1, min(100, args.iters))
    # One BLAS thread: the products are small, and extra threads only add hand-offs (bench/bench_engine.py --no-pin).
    with threadpool_limits(limits=1), tqdm(total=args.iters, unit="it", file=sys.stderr, disable=args.quiet) as bar:
        done = 0
        while done < args.iters:
            n = min(chunk, args.iters - done)
            tr.step(n)
            done += n
            bar.update(n)
            bar.set_postfix(smooth_loss=f"{tr.smooth_loss:.3f}", bpc=f"{tr.bits_per_char:.3f}")
    tr.save(args.out)
    print(f"saved {args.out}: iteration {tr.iteration}, smooth loss {tr.smooth_loss:.4f}", file=sys.stderr)
    return 0


def _sample(args) -> int:
    tr = Trainer.load(args.checkpoint)
    text = tr.sample(args.seed_char, args.length, temperature=args.temperature, top_k=args.top_k,
                     greedy=args.greedy, seed=args.seed)
    sys.stdout.write(args.seed_char + text + "\n")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rnn_core", description="Train and sample a character-level RNN.")
    sub = ap.add_subparsers(dest="command", required=True)
    d = TrainConfig()
    t = sub.add_parser("train", help="train on a UTF-8 text file and save a checkpoint")
    t.add_argument("file")
    t.add_argument("--iters", type=int, default=1000)
    t.add_argument("--out", default="run.npz")
    t.add_argument("--resume", action="store_true", help="continue the run in --out if it exists")
    t.add_argument("--cell", default=d.cell)
    t.add_argument("--hidden", type=int, default=d.hidden_size)
    t.add_argument("--seq-length", type=int, default=d.seq_length)
    t.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="streams trained together, reading from evenly spaced offsets (1: min-char-rnn)")
    t.add_argument("--lr", type=float, default=d.learning_rate)
    t.add_argument("--optimizer", default=d.optimizer)
    t.add_argument("--clip", type=float, default=d.clip)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--quiet", action="store_true")
    s = sub.add_parser("sample", help="write text from a saved checkpoint")
    s.add_argument("checkpoint")
    s.add_argument("--seed-char", default=None, help="first character (default: the text's first)")
    s.add_argument("--length", type=int, default=200)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int, default=None)
    s.add_argument("--greedy", action="store_true")
    s.add_argument("--seed", type=int, default=None)
    args = ap.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.seed_char is None:
            args.seed_char = Trainer.load(args.checkpoint).text[0]
        return _sample(args)
    except (ValueError, DivergenceError, OSError) as err:  # TextError, CheckpointError are ValueErrors
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
