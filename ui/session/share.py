"""The run's settings as a URL query string, and back: a link that reproduces a run from scratch.

    ?corpus=prose&cell=rnn&hidden_size=100&seq_length=25&learning_rate=0.1&optimizer=adagrad
     &clip=5.0&seed=0&sample_every=1000&val_fraction=0.0

Every TrainConfig field is written (so a link keeps meaning the same run if a default changes
later), floats with repr() so they round-trip exactly, clip None as "none". Reading never raises:
a missing key keeps the default silently; a value that does not parse or that TrainConfig
rejects keeps the default and adds a sentence to the warnings. Keys this module does not know
are ignored, so the page may keep its own keys in the same URL. Pure: no Streamlit here.
"""
from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Iterable, Mapping

from rnn_core.trainer import TrainConfig

CORPUS_KEY = "corpus"
_MAX_VALUE_CHARS = 100  # a query value longer than this is not a setting


def config_keys() -> list[str]:
    """The query keys a config occupies (besides CORPUS_KEY), in TrainConfig's field order."""
    return [f.name for f in fields(TrainConfig)]


def _format(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def config_to_query(corpus: str | None, config: TrainConfig) -> dict[str, str]:
    """{key: text} for st.query_params; the corpus is left out when it is None (an uploaded text)."""
    query = {} if corpus is None else {CORPUS_KEY: str(corpus)}
    query.update({name: _format(getattr(config, name)) for name in config_keys()})
    return query


def _parse(text: str, default, optional: bool):
    """Text -> a value of the default's type (None allowed when `optional`); ValueError with a short reason."""
    t = text.strip()
    if optional and t.lower() in ("none", "off", ""):
        return None
    if isinstance(default, bool):  # no bool fields today; refuse to guess rather than misread
        raise ValueError("not a setting this version can read")
    if isinstance(default, int):
        try:
            return int(t, 10)
        except ValueError:
            raise ValueError("not a whole number") from None
    if isinstance(default, float):
        try:
            v = float(t)
        except ValueError:
            raise ValueError("not a number") from None
        if not math.isfinite(v):
            raise ValueError("not a finite number")
        return v
    return t


def _default_corpora() -> list[str]:
    from assets.corpora import CORPORA  # the page's registry; imported late so tests can pass their own
    return list(CORPORA)


def config_from_query(params: Mapping[str, object], corpora: Iterable[str] | None = None
                      ) -> tuple[str | None, TrainConfig, list[str]]:
    """(corpus or None, TrainConfig, warnings) from query parameters; never raises for bad input.

    `params` maps a key to a string (st.query_params) or to a list of strings (the last one
    counts). `corpora` are the accepted corpus names (default: the built-in registry); a name
    not among them gives corpus None and a warning.
    """
    warnings: list[str] = []
    base = TrainConfig()
    values: dict[str, object] = {}

    def text_of(key: str) -> str | None:
        raw = params.get(key)
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else None
        if raw is None:
            return None
        raw = str(raw)
        if len(raw) > _MAX_VALUE_CHARS:
            warnings.append(f"The link's {key} is too long to be a setting; using the default.")
            return None
        return raw

    corpus = text_of(CORPUS_KEY)
    if corpus is not None:
        known = list(corpora) if corpora is not None else _default_corpora()
        if corpus not in known:
            warnings.append(f"The link names a corpus {corpus!r} that is not built in; choose one of "
                            f"{', '.join(repr(c) for c in known)}.")
            corpus = None

    for f in fields(TrainConfig):
        name = f.name
        text = text_of(name)
        if text is None:
            continue
        default = getattr(base, name)
        try:
            value = _parse(text, default, optional="None" in str(f.type))
            replace(base, **{name: value}).validate()  # each field on its own: one bad value costs one field
        except ValueError as err:
            reason = str(err).rstrip(".")
            warnings.append(f"The link's {name}={text!r} was ignored ({reason}); using the default {_format(default)}.")
            continue
        values[name] = value

    config = replace(base, **values)
    try:
        config.validate()
    except ValueError as err:  # fields valid alone but not together (none today): start from defaults
        warnings.append(f"The link's settings do not fit together ({err}); using the defaults.")
        config = base
    return corpus, config, warnings
