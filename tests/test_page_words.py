"""Plain words: every text the page shows, in every look-inside view, names nothing a learner has not seen.

The page once said "as seeds 000 and 004 walk through it" and "as the notebooks do": the sources this
project grew from, which the learner never sees. This collects every string of every element the
page draws (markdown, captions, labels, help texts, options, messages; not the charts' data nor the
texts the model reads or writes) with each view selected, in single and compare mode, and looks for
words that point outside the page.
"""
from __future__ import annotations

import re

import pytest
from google.protobuf.message import Message

from tests.helpers_app import click, messages, ok, session, small, train
from ui.panels.look_inside import VIEWS

FORBIDDEN = [
    r"notebook", r"\bseeds\b", r"\bseeds? 0\d\d\b", r"\bissues?\b", r"\.py\b", r"\bTrainer\b", r"rnn_core",
    r"\bui/", r"session_state", r"\bgist\b", r"\bTODO\b",
    "[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F]",  # glyphs that need an emoji font (Debian's Chromium has none)
]
# Element types whose strings are data, not the page's words: chart specs, generated or probed text.
SKIP_TYPES = {"plotly_chart", "code", "text_area", "html"}
SKIP_FIELDS = {"spec", "value", "default", "raw_value", "id", "form_id", "css", "body_html"}


def _strings(msg: Message, out: list[str]) -> None:
    for field, value in msg.ListFields():
        if field.name in SKIP_FIELDS:
            continue
        items = value if isinstance(value, (list, tuple)) or hasattr(value, "__len__") and not isinstance(value, (str, bytes, Message)) else [value]
        for item in items:
            if isinstance(item, Message):
                _strings(item, out)
            elif isinstance(item, str):
                out.append(item)


def page_words(at) -> list[str]:
    """Every string the page shows now, from the element tree's protos."""
    out: list[str] = []

    def walk(node):
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if kind not in SKIP_TYPES and isinstance(proto, Message):
            _strings(proto, out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def offending(words: list[str]) -> list[tuple[str, str]]:
    return [(p, w[:160]) for w in words for p in FORBIDDEN if re.search(p, w, flags=re.IGNORECASE)]


def test_the_word_check_catches_what_it_should():
    """The patterns themselves: the sentences the page used to show are caught, plain ones are not."""
    bad = ["As seeds 000 and 004 walk through it", "one plain SGD step (as the notebooks do)",
           "The loss Trainer.step will compute", "see issue 13", "in rnn_core/analysis.py", "📄 cats.txt"]
    assert len({w for _, w in offending(bad)}) == len(bad)
    fine = ["Seed", "Sampling seed", "The first character the model reads: the seed character.",
            "Random initial weights come from this seed", "windows of 10 chars, seed 0"]
    assert offending(fine) == []


pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test


@pytest.fixture
def trained():  # per test: each test has its own run folder, and so its own worker pool
    at = session()
    small(at, hidden=16, seq=10)
    train(at, 300)
    return at


@pytest.mark.parametrize("view", [title for title, _ in VIEWS])
def test_every_view_speaks_plain_words(trained, view):
    at = trained
    at.segmented_control(key="look_inside").set_value(view)
    ok(at)
    words = page_words(at)
    joined = "\n".join(words)
    assert view in joined and "min-char-rnn" in joined  # the collection really reads the page
    assert len(words) > 80
    assert offending(words) == []


def test_compare_mode_and_messages_speak_plain_words(trained):
    at = trained
    click(at, "compare_cells")
    assert "Comparing 3 runs" in "\n".join(page_words(at))
    at.number_input(key="n_iters").set_value(50_000)
    ok(at)
    assert "at most 10,000" in messages(at.warning)
    assert offending(page_words(at)) == []
    click(at, "compare_leave")


def test_the_intro_says_what_min_char_rnn_does_and_why():
    at = session()
    intro = at.markdown[0].value
    for words in ("min-char-rnn", "one character at a time", "guesses the next character", "Nothing about words"):
        assert words in intro
