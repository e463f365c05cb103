"""Checkpoints: a saved and reloaded run continues bit for bit; saving is atomic; crafted files are refused."""
import io
import os
import pickle

import numpy as np
import pytest

from rnn_core import CheckpointError, TrainConfig, Trainer
from rnn_core import checkpoint_io as ckpt  # where saving lives (checkpoint re-exports it)
from rnn_core.checkpoint import load_trainer, to_arrays
from tests.helpers_engine import make_text
from tests.helpers_files import Payload, npz, rewritten

TEXT = make_text(2500, 35, seed=51)
LR = {"adagrad": 0.1, "sgd": 0.05, "momentum": 0.02, "adam": 0.005}


def everything(tr):
    """The whole state of a run, as plain comparable values."""
    return {
        "config": tr.config, "vocab": tr.vocab.chars, "text": tr.text,
        "data": tr.data.tolist(), "val": tr.val_data.tolist(),
        "flat": tr.model.flat.tobytes(),
        "params": {k: v.tobytes() for k, v in tr.model.params.items()},
        "optim": (tr.optimizer.name, tr.optimizer.t, {k: v.tobytes() for k, v in tr.optimizer.state.items()}),
        "counters": (tr.iteration, tr.pointer),
        "state": np.asarray(tr.state).tobytes(),
        "smooth": tr.smooth_loss,
        "history": [a.tobytes() for a in tr.history.state().values()],
        "samples": list(tr.samples),
    }


def assert_same_run(a, b):
    ea, eb = everything(a), everything(b)
    for key in ea:
        assert ea[key] == eb[key], key


@pytest.mark.parametrize("name", sorted(LR))
def test_save_load_continue_is_bit_for_bit(tmp_path, name):
    cfg = TrainConfig(hidden_size=24, seq_length=16, optimizer=name, learning_rate=LR[name], sample_every=100,
                      val_fraction=0.1 if name == "adam" else 0.0)
    straight = Trainer(TEXT, cfg, history_cap=16)     # a small cap: the history compacts, with an open row
    first = straight.step(200)
    rest = straight.step(100)

    saved = Trainer(TEXT, cfg, history_cap=16)
    assert np.array_equal(saved.step(200), first)
    path = tmp_path / "run.npz"
    saved.save(path)
    loaded = Trainer.load(path)
    assert loaded.history.compactions > 0 and loaded.history.cap == 16
    assert_same_run(loaded, saved)
    assert np.array_equal(loaded.step(100), rest)
    assert_same_run(loaded, straight)
    assert [i for i, _ in loaded.samples] == [100, 200, 300]
    assert loaded.sample("e", 100, seed=7) == straight.sample("e", 100, seed=7)
    assert loaded.probe(TEXT[:40]).probs.tobytes() == straight.probe(TEXT[:40]).probs.tobytes()


def test_load_from_path_bytes_and_file_object(tmp_path):
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=10))
    tr.step(20)
    path = tmp_path / "sub" / "dir" / "run.npz"          # folders are created
    tr.save(path)
    raw = path.read_bytes()
    assert raw.startswith(b"PK\x03\x04")
    for source in (path, str(path), raw, io.BytesIO(raw)):
        assert_same_run(load_trainer(source), tr)
    assert os.listdir(path.parent) == ["run.npz"]
    with pytest.raises(CheckpointError, match="Cannot read"):
        Trainer.load(tmp_path / "missing.npz")


# ---- atomic save ---------------------------------------------------------------------------------

class Crash(Exception):
    pass


def _boom(*args, **kwargs):
    raise Crash("simulated crash")


@pytest.mark.parametrize("where", ["os.replace", "os.fsync", "to_bytes"])
def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, monkeypatch, where):
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=10))
    tr.step(30)
    path = tmp_path / "run.npz"
    tr.save(path)
    old_bytes = path.read_bytes()
    old = load_trainer(path)
    tr.step(30)
    if where == "to_bytes":
        monkeypatch.setattr(ckpt, "to_bytes", _boom)
    else:
        monkeypatch.setattr(ckpt.os, where.split(".")[1], _boom)
    with pytest.raises(Crash):
        tr.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert_same_run(load_trainer(path), old)
    assert old.iteration == 30
    assert os.listdir(tmp_path) == ["run.npz"]           # no temporary file left behind
    # Without a previous file: nothing at all is left.
    monkeypatch.setattr(ckpt.os, "replace", _boom)
    with pytest.raises(Crash):
        tr.save(tmp_path / "new.npz")
    assert os.listdir(tmp_path) == ["run.npz"]


# ---- crafted files -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good():
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=10))
    tr.step(10)
    return tr


def test_the_payload_really_runs_code_when_unpickled(tmp_path):
    marker = tmp_path / "proof"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.is_dir()


@pytest.mark.parametrize("key", [None, "config", "param/Whh"])
def test_pickled_objects_are_never_loaded(tmp_path, good, key):
    marker = tmp_path / "pwned"
    evil = np.array([Payload(marker)], dtype=object)
    arrays = {"x": evil} if key is None else {**to_arrays(good), key: evil}
    with pytest.raises(CheckpointError, match="pickle"):
        load_trainer(npz(**arrays))
    assert not marker.exists()


def _nan_whh(g):
    w = g.model.params["Whh"].copy()
    w[0, 0] = np.nan
    return w


H_ = 8  # hidden size of the `good` run
CRAFTED = {
    "not a zip": (lambda g: b"hello, I am a text file", r"not a checkpoint"),
    "empty": (lambda g: b"", r"not a checkpoint"),
    "truncated": (lambda g: ckpt.to_bytes(g)[:300], r"damaged|not a \.npz"),
    "random npz": (lambda g: npz(x=np.arange(10)), r"format tag"),
    "wrong format tag": (lambda g: rewritten(g, format=np.array("someone-else/3")), r"format tag"),
    "missing param": (lambda g: rewritten(g, **{"param/Why": None}), r"parameter names"),
    "missing counters": (lambda g: rewritten(g, counters=None), r"lacks 'counters'"),
    "missing history": (lambda g: rewritten(g, history_meta=None), r"damaged|history"),
    "extra param": (lambda g: rewritten(g, **{"param/W2": np.zeros(3)}), r"parameter names"),
    "Wxh shape vs vocabulary": (lambda g: rewritten(g, **{"param/Wxh": np.zeros((H_, g.vocab.size + 1))}),
                                r"'Wxh' has shape"),
    "Why shape": (lambda g: rewritten(g, **{"param/Why": np.zeros((g.vocab.size, H_ + 2))}), r"'Why' has shape"),
    "optimizer state shape": (lambda g: rewritten(g, **{"optim/mem": np.zeros(5)}), r"optimizer state 'mem' has shape"),
    "NaN parameter": (lambda g: rewritten(g, **{"param/Whh": _nan_whh(g)}), r"not all finite"),
    "inf optimizer state": (lambda g: rewritten(g, **{"optim/mem": np.full(g.model.flat.size, np.inf)}),
                            r"not all finite"),
    "integer params": (lambda g: rewritten(g, **{"param/by": np.zeros(g.vocab.size, dtype=np.int64)}),
                       r"not all finite"),
    "hidden state shape": (lambda g: rewritten(g, state=np.zeros(H_ + 1)), r"hidden state"),
    "negative counters": (lambda g: rewritten(g, counters=np.array([-1, 0, 0])), r"counters"),
    "data beyond vocabulary": (lambda g: rewritten(g, data=np.full(100, g.vocab.size, dtype=np.uint16)),
                               r"text does not match"),
    "vocabulary not sorted": (lambda g: rewritten(g, vocab=to_arrays(g)["vocab"][::-1].copy()), r"sorted"),
    "unknown setting": (lambda g: rewritten(g, config=np.array('{"cell": "rnn", "layers": 3}')), r"settings"),
    "invalid setting": (lambda g: rewritten(g, config=np.array('{"cell": "rnn", "hidden_size": 0, "seq_length": 10}')),
                        r"hidden_size"),
    "config not JSON": (lambda g: rewritten(g, config=np.array("{not json")), r"damaged"),
    "NaN smooth loss": (lambda g: rewritten(g, smooth_loss=np.array(np.nan)), r"smoothed loss"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_or_damaged_files_raise_checkpoint_errors(good, case):
    make, pattern = CRAFTED[case]
    with pytest.raises(CheckpointError, match=pattern) as info:
        load_trainer(make(good))
    assert isinstance(info.value, ValueError)


def test_an_unedited_round_trip_loads(good):
    """The edits above are what fails, not the re-packing."""
    assert_same_run(load_trainer(rewritten(good)), good)
