"""Hostile names and runs on the page (AppTest): names shown as text, runs that cannot be drawn never
saved over their last good file, the shared run folder's cost and quota, lone surrogates.

Streamlit renders every st.markdown / caption / notice and widget label as Markdown. AppTest hands
back that Markdown source, so "shown as text" is checked on the source: the visitor's name never
appears raw, only with every ASCII punctuation character backslash-escaped (CommonMark shows it as
the character itself and never reads it as syntax), and no piece of text between splitters holds a
bare address GFM would turn into a link. tests/e2e/test_hostile.py checks the rendered page.
"""
from __future__ import annotations

import json
import os
import re
import string
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import limits
from rnn_core.checkpoint import to_arrays, to_bytes
from rnn_core.runstore import SIDECAR_FORMAT, RunStore
from tests.helpers_app import click, in_worker, messages, ok, session, small, train, trainer, unescape
from tests.helpers_attacks import crafted
from tests.helpers_counting import touched
from tests.helpers_reliability import small_trainer
from ui.panels import look_inside
from ui.session import uploads
from ui.session.session import session_of

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test

NAMES = [
    "![t](http://127.0.0.1:9/t.png).txt",
    "<img src=x onerror=alert(1)>.txt",
    "[click](javascript:alert(1)).txt",
    "**bold**_x_.txt",
    "mail me@example.com or www.example.com.txt",
    ":red[x] &lt;b&gt; $y$ :smile:.txt",
]
TEXT = ("the cat sat on the mat, the dog sat on the log. " * 12).encode()


@pytest.fixture
def store(tmp_path, monkeypatch) -> RunStore:
    monkeypatch.setenv("CHAR_RNN_RUNS_DIR", str(tmp_path))
    return RunStore(tmp_path)


def escaped(name: str) -> str:
    """How a name must appear in Markdown source to be shown literally (written apart from the page's helper)."""
    return "".join("\\" + c if c in string.punctuation else c for c in name)


def shown_as_text(md: str, name: str) -> bool:
    """True if Markdown source `md` shows `name` literally: escaped, and no bare address left to autolink."""
    pieces = md.split(":small[]")  # the page's empty splitter (an empty <span>)
    return (name not in md and escaped(name) in "".join(pieces)
            and not any(re.search(r"(?i)https?://|www\.|\w@", unescape(p)) for p in pieces))


def markdown_sources(at: AppTest) -> list[str]:
    """Every string of the page that Streamlit renders as Markdown."""
    out = []
    for kind in ("markdown", "caption", "success", "error", "warning", "info", "title", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "expander", "selectbox", "radio", "number_input", "file_uploader", "metric"):
        out += [str(getattr(e, "label", "")) for e in getattr(at, kind)]
    return out


def assert_never_raw(at: AppTest, name: str) -> None:
    raw = [s for s in markdown_sources(at) if name in s]
    assert not raw, f"{name!r} reaches Markdown unescaped in: {raw}"


def run_caption(at: AppTest) -> str:
    [caption] = [str(c.value) for c in at.caption if "**Text:**" in str(c.value)]
    return caption


def upload(at: AppTest, base: str, name: str, data: bytes) -> None:
    """Put a file into uploader `base` under its current key (a refused file gives the box a fresh key)."""
    at.file_uploader(key=uploads.uploader_key(at.session_state, base)).set_value((name, data, "application/octet-stream"))
    ok(at)


# ---- 1. names are text ----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_an_uploaded_file_name_is_shown_as_text_everywhere(store, name):
    at = session()
    small(at)
    upload(at, "upload", name, TEXT)
    assert trainer(at).text == TEXT.decode()
    assert shown_as_text(run_caption(at), name)                  # the run caption at the top
    assert f"New run on {name}" in messages(at.success)          # the upload notice, read as shown
    assert at.selectbox(key="corpus").value == f"{name} (uploaded)"     # the selector: plain text, the name itself
    assert_never_raw(at, name)
    train(at, 3)                                                 # saved: the sidebar lists it by its title
    assert any(shown_as_text(s, f"{name} (uploaded)") for s in markdown_sources(at) if "bits/char" in s)
    assert_never_raw(at, name)
    click(at, "compare_cells")                                   # compare: the caption and notice name the text
    assert any(shown_as_text(str(c.value), name) for c in at.caption if "Same text" in str(c.value))
    assert name in messages(at.success)
    assert_never_raw(at, name)


def test_refused_files_and_quoted_checkpoint_values_are_shown_as_text(store):
    at = session()
    small(at)
    train(at, 2)
    tr = trainer(at)
    bad_text = "<img src=x onerror=alert(1)>.txt"
    upload(at, "upload", bad_text, b"\x89PNG\r\n\x1a\n\x00\x00")        # refused: its name in the error
    assert f"Could not use {bad_text}" in messages(at.error) and trainer(at) is tr
    cfg = json.loads(str(to_arrays(in_worker(tr))["config"]))
    cfg["cell"] = "![t](http://127.0.0.1:9/cell.png)"                   # the engine quotes it in its message
    upload(at, "checkpoint_upload", "[click](javascript:alert(1)).npz", crafted(in_worker(tr), config=np.array(json.dumps(cfg))))
    shown = messages(at.error)
    assert "Could not load [click](javascript:alert(1)).npz" in shown and cfg["cell"] in shown
    assert trainer(at) is tr and tr.iteration == 2
    for name in (bad_text, cfg["cell"], "[click](javascript:alert(1)).npz"):
        assert_never_raw(at, name)
    good = "**bold**_x_.npz"                                             # a good checkpoint under a hostile name
    upload(at, "checkpoint_upload", good, to_bytes(small_trainer(4)))
    assert trainer(at).iteration == 4 and "prose" in run_caption(at)  # the caption names the text it trained on
    assert any(shown_as_text(s, good) for s in markdown_sources(at) if "came from" in s)  # and where it came from
    assert f"Restored {good}" in messages(at.success)
    assert_never_raw(at, good)


# ---- 2. a run that cannot be drawn ----------------------------------------------------------
def poisoned_trainer():
    """A run the checkpoint loader accepts (finite numbers, right shapes) that cannot be drawn: its output
    weights are 1e308, so every prediction overflows to NaN."""
    tr = small_trainer(6)
    why = tr.model.params["Why"]
    why[...] = 1e308
    return tr


def test_a_link_to_a_run_that_cannot_be_drawn_shows_why_and_a_fresh_run_on_every_reload(store):
    first = session()
    ws = first.query_params["ws"]
    rid = "0123456789ab"
    store.save(rid, poisoned_trainer(), {"ws": ws, "corpus": "prose", "title": "prose"})
    saved = store.path(rid).read_bytes()
    for _ in range(2):                                                  # the link, then a reload of it
        at = session({"ws": ws, "run": rid})
        shown = messages(at.warning)
        assert "The link's run could not be opened" in shown and "not finite" in shown
        assert "A new run was started instead" in shown
        assert trainer(at).iteration == 0 and session_of(at.session_state).active_run.run_id != rid
        assert "run" not in at.query_params
    assert store.path(rid).read_bytes() == saved                       # the file is left for its owner to download


def test_an_uploaded_checkpoint_that_cannot_be_drawn_is_refused_and_the_run_kept(store):
    at = session()
    small(at)
    train(at, 3)
    tr = trainer(at)
    upload(at, "checkpoint_upload", "nan.npz", to_bytes(poisoned_trainer()))
    assert "cannot be shown" in messages(at.error) and "not finite" in messages(at.error)
    assert trainer(at) is tr and tr.iteration == 3


def test_a_view_that_fails_shows_a_message_and_the_run_is_not_saved_over_its_last_good_file(store, request):
    at = session()
    small(at)
    train(at, 5)
    rid = at.query_params["run"]
    assert store.info(rid).iteration == 5
    title, real = look_inside.VIEWS[0]

    def fails_past_8(trainer, ss, pin, snap):
        if trainer.iteration > 8:
            raise RuntimeError("this run's heatmap cannot be built")
        return real.render(trainer, ss, pin, snap)

    look_inside.VIEWS[0] = (title, look_inside.View(real.request, fails_past_8))  # the list the page reads
    request.addfinalizer(lambda: look_inside.VIEWS.__setitem__(0, (title, real)))
    at.number_input(key="n_iters").set_value(5)
    at.button(key="train").click()
    at.run()
    assert not at.exception                                           # a message, not a traceback
    assert "cannot be drawn for this run" in messages(at.error)
    assert "this run's heatmap cannot be built" in messages(at.error)
    assert "This run was not saved" in messages(at.warning)
    assert trainer(at).iteration == 10 and store.info(rid).iteration == 5   # the last good file stays
    train(at, 2)                                                      # later clicks do not save it either
    assert trainer(at).iteration == 12 and store.info(rid).iteration == 5
    again = session(dict(at.query_params))                            # its link opens the good iteration 5
    assert trainer(again).iteration == 5 and not again.error
    click(again, "reset")                                             # a new run saves as usual
    train(again, 3)
    assert store.info(again.query_params["run"]).iteration == 3


# ---- 3. the shared run folder -----------------------------------------------------------------
def other_workspaces(store: RunStore, n: int) -> None:
    """`n` indexed runs of other workspaces, written directly (saving them one by one costs minutes)."""
    index = store.root / ".index"
    (index / "v1").parent.mkdir(parents=True, exist_ok=True)
    (index / "v1").touch()
    for i in range(n):
        rid, ws = f"{i:012x}", f"{i % 5000:024x}"
        npz = store.root / f"{rid}.npz"
        npz.write_bytes(b"PK\x03\x04 a run of someone else")
        st = npz.stat()
        record = {"format": SIDECAR_FORMAT, "run_id": rid, "npz_size": st.st_size, "npz_mtime_ns": st.st_mtime_ns,
                  "iteration": 5, "smooth_loss": 40.0, "cell": "rnn", "hidden_size": 16, "seq_length": 10,
                  "vocab_size": 30, "meta": {"ws": ws}}
        (store.root / f"{rid}.json").write_text(json.dumps(record))
        (index / "ws" / ws).mkdir(parents=True, exist_ok=True)
        (index / "ws" / ws / rid).touch()


def test_a_full_rerun_costs_the_same_with_10000_runs_of_other_workspaces(store):
    at = session()
    small(at)
    train(at, 3)
    click(at, "reset")
    train(at, 2)                                                        # two saved runs of this workspace
    _, alone = touched(store.root, lambda: ok(at))
    other_workspaces(store, 10_000)
    _, crowded = touched(store.root, lambda: ok(at))
    assert "Your saved runs (2)" in [e.label for e in at.expander]
    assert 0 < crowded == alone <= 6, (alone, crowded)
    _, saving = touched(store.root, lambda: train(at, 1))              # keeping the newest N reads the index too
    assert saving < 100, saving


def test_a_save_refused_because_the_folder_is_full_says_so_and_training_goes_on(store):
    # The workers save in processes of their own, so the folder is filled for real: as many runs of other
    # workspaces as the quota allows, all saved just now (in use, so none can be evicted).
    other_workspaces(store, limits.MAX_STORE_RUNS)
    other = f"{0:012x}"
    at = session()
    small(at)
    train(at, 3)
    shown = messages(at.warning)
    assert "run folder is full" in shown and f"{limits.STORE_IDLE_SECONDS} s" in shown
    assert "keeps training" in shown and "Download a checkpoint" in shown
    rid = session_of(at.session_state).active_run.run_id
    assert not store.exists(rid) and store.exists(other)
    train(at, 4)
    assert trainer(at).iteration == 7 and "run folder is full" in messages(at.warning)
    t = time.time() - 2 * limits.STORE_IDLE_SECONDS                    # the oldest other run goes idle: room is made
    os.utime(store.path(other), (t, t))
    train(at, 1)
    assert store.info(rid).iteration == 8 and not store.exists(other) and not at.warning


# ---- 4. lone surrogates -------------------------------------------------------------------------
def test_lone_surrogates_in_an_upload_or_a_checkpoint_are_refused_and_the_run_kept(store):
    at = session()
    small(at)
    train(at, 4)
    tr = trainer(at)
    params = in_worker(tr).model.flat.copy()
    upload(at, "upload", "odd.txt", b"hello \xed\xa0\x80 world, " * 20)  # U+D800 as (invalid) UTF-8
    assert "surrogate" in messages(at.error) and trainer(at) is tr
    vocab = to_arrays(in_worker(tr))["vocab"].copy()
    vocab[-1] = 0xD800
    upload(at, "checkpoint_upload", "odd.npz", crafted(in_worker(tr), vocab=vocab))
    assert "lone surrogate" in messages(at.error) and "Could not load odd.npz" in messages(at.error)
    assert trainer(at) is tr and tr.iteration == 4 and np.array_equal(in_worker(tr).model.flat, params)
    train(at, 2)                                                       # the run goes on, and is still saved
    assert store.info(at.query_params["run"]).iteration == 6
