"""`python -m rnn_core train|sample`: exit codes, output, resume, and errors a person can read."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core import Trainer
from rnn_core.__main__ import main
from tests.helpers_engine import make_text

ROOT = Path(__file__).resolve().parent.parent
TEXT = "hello world, the quick brown fox jumps over the lazy dog.\n" * 20


def run(*args):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rnn_core", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "input.txt").write_text(TEXT, encoding="utf-8")
    r = run("train", d / "input.txt", "--iters", 50, "--out", d / "run.npz", "--quiet", "--hidden", 16)
    return d, r


def test_train_writes_a_checkpoint(trained_run):
    d, r = trained_run
    assert r.returncode == 0, r.stderr
    assert "saved" in r.stderr and "iteration 50" in r.stderr
    tr = Trainer.load(d / "run.npz")
    assert tr.iteration == 50 and tr.config.hidden_size == 16 and tr.text == TEXT


def test_sample_prints_seed_char_and_length_chars(trained_run):
    d, _ = trained_run
    r = run("sample", d / "run.npz", "--seed-char", "h", "--length", 20, "--seed", 3)
    assert r.returncode == 0, r.stderr
    out = r.stdout.rstrip("\n")
    assert len(out) == 21 and out[0] == "h" and set(out) <= set(TEXT)
    again = run("sample", d / "run.npz", "--seed-char", "h", "--length", 20, "--seed", 3)
    assert again.stdout == r.stdout
    assert out[1:] == Trainer.load(d / "run.npz").sample("h", 20, seed=3)


def test_bad_input_file_exits_2_with_an_error_line(tmp_path):
    png = tmp_path / "picture.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    r = run("train", png, "--iters", 5, "--out", tmp_path / "x.npz", "--quiet")
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and "PNG" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.npz").exists()


def test_progress_bar_and_resume_continue_the_same_run(tmp_path, capsys):
    text_file = tmp_path / "t.txt"
    text_file.write_text(make_text(2000, 30, seed=61), encoding="utf-8")
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    common = ["--hidden", "12", "--seq-length", "10", "--seed", "4"]
    assert main(["train", str(text_file), "--iters", "40", "--out", str(a), *common]) == 0
    err = capsys.readouterr().err
    assert "it/s" in err and "smooth_loss" in err                       # the progress bar
    assert main(["train", str(text_file), "--iters", "25", "--out", str(b), "--quiet", *common]) == 0
    assert main(["train", str(text_file), "--iters", "15", "--out", str(b), "--quiet", "--resume", *common]) == 0
    ta, tb = Trainer.load(a), Trainer.load(b)
    assert tb.iteration == 40 and np.array_equal(ta.model.flat, tb.model.flat) and ta.smooth_loss == tb.smooth_loss


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["train", "{d}/missing.txt", "--iters", "5"], r"No such file"),
        (["train", "{d}/empty.txt", "--iters", "5"], r"empty"),
        (["train", "{d}/ok.txt", "--iters", "5", "--lr", "-1"], r"learning rate"),
        (["train", "{d}/ok.txt", "--iters", "5", "--optimizer", "rmsprop"], r"Unknown optimizer"),
        (["sample", "{d}/broken.npz"], r"not a checkpoint"),
        (["sample", "{d}/good.npz", "--seed-char", "Z"], r"'Z'.*not in the vocabulary"),
        (["sample", "{d}/good.npz", "--temperature", "0"], r"temperature"),
        (["sample", "{d}/good.npz", "--length", "0"], r"length"),
    ],
)
def test_errors_exit_2_with_a_message(tmp_path, capsys, argv, pattern):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "ok.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "broken.npz").write_bytes(b"not a zip at all")
    tr = Trainer(TEXT)
    tr.save(tmp_path / "good.npz")
    argv = [a.format(d=tmp_path) for a in argv]
    if argv[0] == "train":
        argv += ["--out", str(tmp_path / "out.npz"), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert re.search(pattern, err), err
