"""TrainConfig.val_fraction: a held-out tail of the text, never trained on, saved in checkpoints."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from rnn_core import TextError, TrainConfig, Trainer
from rnn_core.reference.oracle import NaiveRNN

TEXT = "the quick brown fox jumps over the lazy dog. " * 20  # 900 chars, every char in both parts


def _params(tr: Trainer) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in tr.model.params.items()}


def test_default_keeps_the_whole_text_and_matches_min_char_rnn():
    cfg = TrainConfig(hidden_size=16, seq_length=10)
    assert cfg.val_fraction == 0.0
    tr = Trainer(TEXT, cfg)
    assert len(tr.data) == len(TEXT) and tr.val_data.shape == (0,)
    naive = NaiveRNN(TEXT, hidden_size=16, seq_length=10)
    for _ in range(120):  # past one pass over the text, so the wrap-around is covered too
        assert tr.step(1)[0] == pytest.approx(naive.train_step(), rel=1e-10)
    for name, ref in zip(("Wxh", "Whh", "Why", "bh", "by"), (naive.Wxh, naive.Whh, naive.Why, naive.bh, naive.by)):
        np.testing.assert_allclose(tr.model.params[name], ref.reshape(tr.model.params[name].shape), rtol=1e-8, atol=1e-10)


def test_val_fraction_trains_on_the_head_exactly_as_a_run_on_the_head_alone():
    cut = int(len(TEXT) * 0.9)
    held = Trainer(TEXT, TrainConfig(hidden_size=12, seq_length=8, val_fraction=0.1))
    head = Trainer(TEXT[:cut], TrainConfig(hidden_size=12, seq_length=8))
    assert held.vocab == head.vocab
    assert held.vocab.decode(held.data) == TEXT[:cut]
    assert held.vocab.decode(held.val_data) == TEXT[cut:]
    assert held.text == TEXT
    np.testing.assert_array_equal(held.step(150), head.step(150))  # wraps at the head's end, not the text's
    for k, v in _params(held).items():
        np.testing.assert_array_equal(v, head.model.params[k])


def test_vocab_comes_from_the_whole_text_so_the_held_out_part_encodes():
    text = "ab" * 50 + "xyz"
    tr = Trainer(text, TrainConfig(hidden_size=4, seq_length=5, val_fraction=0.05))
    assert {"x", "y", "z"} <= set(tr.vocab.chars)
    assert tr.vocab.decode(tr.val_data) == "abxyz"  # int(103 * 0.05) = 5 chars


@pytest.mark.parametrize("bad", [-0.1, 0.51, float("nan"), "0.1", True, None])
def test_invalid_val_fraction_is_a_value_error(bad):
    with pytest.raises(ValueError, match="val_fraction"):
        TrainConfig(val_fraction=bad).validate()


def test_too_short_a_held_out_part_or_head_says_what_to_do():
    with pytest.raises(TextError, match="at least 2"):
        Trainer("abcdefghijklmnopqrstuvwxyz" * 2, TrainConfig(seq_length=5, val_fraction=0.01))
    with pytest.raises(TextError, match="after holding out"):
        Trainer("ab" * 15, TrainConfig(seq_length=25, val_fraction=0.2))


def test_checkpoint_keeps_the_split_and_an_old_config_loads_with_the_default(tmp_path):
    tr = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=8, val_fraction=0.2))
    tr.step(30)
    tr.save(tmp_path / "run.npz")
    back = Trainer.load(tmp_path / "run.npz")
    assert back.config == tr.config and back.text == TEXT
    np.testing.assert_array_equal(back.data, tr.data)
    np.testing.assert_array_equal(back.val_data, tr.val_data)
    np.testing.assert_array_equal(back.step(5), tr.step(5))

    # A checkpoint written before the field existed has no val_fraction in its config JSON.
    import json
    from rnn_core.checkpoint import load_trainer, to_arrays
    old = Trainer(TEXT, TrainConfig(hidden_size=8, seq_length=8))
    arrays = to_arrays(old)
    cfg = asdict(old.config)
    del cfg["val_fraction"]
    arrays["config"] = np.array(json.dumps(cfg))
    import io
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    loaded = load_trainer(buf.getvalue())
    assert loaded.config.val_fraction == 0.0 and len(loaded.data) == len(TEXT)
