"""ui.share: TrainConfig <-> URL query, a typed round trip that never raises on a bad link."""
from __future__ import annotations

from dataclasses import asdict, fields
from urllib.parse import parse_qs, urlencode

import pytest

from assets.corpora import CORPORA
from rnn_core.cells import CELLS
from rnn_core.trainer import TrainConfig
from ui.session.share import CORPUS_KEY, config_from_query, config_keys, config_to_query

CUSTOM = TrainConfig(
    cell=next((c for c in sorted(CELLS) if c != "rnn"), "rnn"), hidden_size=37, seq_length=13, learning_rate=0.0123456789012345,
    optimizer="adam", clip=None, seed=4242, sample_every=250, val_fraction=0.15, batch_size=4,
)


def test_every_field_is_written_and_differs_from_the_default_in_the_custom_config():
    names = [f.name for f in fields(TrainConfig)]
    assert config_keys() == names
    default = TrainConfig()
    assert all(getattr(CUSTOM, n) != getattr(default, n) or n == "cell" and len(CELLS) == 1 for n in names)
    q = config_to_query("prose", CUSTOM)
    assert set(q) == {CORPUS_KEY, *names} and all(isinstance(v, str) for v in q.values())
    assert q["clip"] == "none" and q["learning_rate"] == "0.0123456789012345"


@pytest.mark.parametrize("config", [TrainConfig(), CUSTOM, TrainConfig(clip=0.0, learning_rate=1e-07, val_fraction=0.5)])
@pytest.mark.parametrize("corpus", list(CORPORA) + [None])
def test_round_trip_through_a_real_url(config, corpus):
    url = urlencode(config_to_query(corpus, config))
    params = {k: v[-1] for k, v in parse_qs(url, keep_blank_values=True).items()}
    back_corpus, back, warnings = config_from_query(params)
    assert (back_corpus, back, warnings) == (corpus, config, [])
    assert asdict(back) == asdict(config)
    assert type(back.hidden_size) is int and type(back.learning_rate) is float


def test_missing_keys_keep_the_defaults_silently_and_unknown_keys_are_ignored():
    assert config_from_query({}) == (None, TrainConfig(), [])
    corpus, cfg, warnings = config_from_query({"hidden_size": "64", "view": "microscope", "utm": "x"})
    assert (corpus, cfg, warnings) == (None, TrainConfig(hidden_size=64), [])


@pytest.mark.parametrize("key, value, reason", [
    ("hidden_size", "lots", "not a whole number"),
    ("hidden_size", "1.5", "not a whole number"),
    ("hidden_size", "0", "hidden_size must be"),
    ("hidden_size", "100000", "hidden_size must be"),
    ("seq_length", "-3", "seq_length must be"),
    ("learning_rate", "nan", "not a finite number"),
    ("learning_rate", "1e999", "not a finite number"),
    ("learning_rate", "-0.1", "must be a positive number"),
    ("optimizer", "rmsprop", "Unknown optimizer"),
    ("cell", "transformer", "Unknown cell"),
    ("clip", "big", "not a number"),
    ("clip", "-1", "clip must be"),
    ("seed", "-1", "seed must be"),
    ("sample_every", "often", "not a whole number"),
    ("val_fraction", "0.9", "val_fraction must be"),
    ("seq_length", "9" * 200, "too long"),
])
def test_a_bad_value_costs_only_its_own_field_and_says_why(key, value, reason):
    corpus, cfg, warnings = config_from_query({"corpus": "prose", key: value, "hidden_size" if key != "hidden_size" else "seed": "7"})
    assert corpus == "prose"
    assert getattr(cfg, key) == getattr(TrainConfig(), key)  # the default
    assert (cfg.seed if key == "hidden_size" else cfg.hidden_size) == 7  # the good field next to it survives
    assert len(warnings) == 1 and reason in warnings[0] and key in warnings[0]


def test_unknown_corpus_warns_and_gives_none():
    corpus, cfg, warnings = config_from_query({"corpus": "<script>", "seed": "3"})
    assert corpus is None and cfg == TrainConfig(seed=3)
    assert len(warnings) == 1 and "not built in" in warnings[0] and "'prose'" in warnings[0]
    assert config_from_query({"corpus": "mine"}, corpora=["mine"])[0] == "mine"


def test_clip_spellings_and_list_values():
    for off in ("none", "None", "off", ""):
        assert config_from_query({"clip": off})[1].clip is None
    assert config_from_query({"clip": "0"})[1].clip == 0.0
    assert config_from_query({"seed": ["1", "2"]})[1].seed == 2  # the last value of a repeated key
    assert config_from_query({"seed": []}) == (None, TrainConfig(), [])
