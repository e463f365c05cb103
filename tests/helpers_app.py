"""Shared by the AppTest files: open the page in a new session, rerun it, click, train, read it back.

Every step that reruns the page asserts that the rerun raised nothing (`at.exception` is empty).
"""
from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from rnn_core import Trainer
from ui.session.session import session_of

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def session(query: dict | None = None, timeout: float = 60) -> AppTest:
    """The page in a new session (`query`: the URL's parameters), after its first run."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def ok(at: AppTest) -> AppTest:
    """Rerun the page (after a widget change) and check it raised nothing."""
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> None:
    at.button(key=key).click()
    ok(at)


def train(at: AppTest, n: int) -> None:
    at.number_input(key="n_iters").set_value(n)
    click(at, "train")


def small(at: AppTest, hidden: int = 8, seq: int = 10) -> None:
    """Reset to a small model: the tests stay fast."""
    at.number_input(key="hidden_size").set_value(hidden)
    at.number_input(key="seq_length").set_value(seq)
    click(at, "reset")


def trainer(at: AppTest) -> Trainer:
    return session_of(at.session_state).trainer


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape(markdown: str) -> str:
    """Markdown's backslash escapes and empty `:small[]` removed: a message read as a person sees it
    (names are escaped, see ui/session/names.md_escape)."""
    return _ESCAPED.sub(r"\1", markdown.replace(":small[]", ""))


def messages(elements) -> str:
    """The text of a list of elements (at.error, at.warning, at.success...), one per line, as shown."""
    return "\n".join(unescape(str(e.value)) for e in elements)


def in_worker(tr) -> Trainer:
    """The run as its worker holds it (weights, data, optimizer), read back through a checkpoint: the page
    itself never holds weights."""
    from rnn_core.checkpoint import load_trainer

    return load_trainer(tr.checkpoint())
