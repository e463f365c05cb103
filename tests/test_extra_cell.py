"""Adding a cell is one class and one registry line: a small cell defined here appears in the page's
selector, trains, and shows its own views, with no change anywhere in ui/."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_core import TrainConfig, Trainer
from rnn_core.cell_views import HIDDEN, View
from rnn_core.cells import CELLS, RNNCell
from tests.helpers_app import click, in_worker, ok, session, small, train
from ui.panels.look_inside import VIEWS
from ui.panels.settings import cell_help, cell_label
from ui.session.session import session_of

pytestmark = pytest.mark.usefixtures("app_pool")  # one Ray for the suite; the page's workers end after each test

NAME = "echo"


class EchoCell(RNNCell):
    """min-char-rnn's tanh cell (so it trains), describing itself and offering two extra views."""

    name = NAME
    label = "Echo: a tanh cell that also shows its previous state"
    help = "the tanh cell, plus its state one step back and how open each unit is."
    equation = "h = tanh(Wxh·x + Whh·h_prev + bh)   (echo)"
    views = {
        HIDDEN: View("hidden state h", "what the output layer reads", "tanh"),
        "previous": View("previous state h_prev", "the state one step back", "tanh"),
        "openness": View("openness gate", "(1 + h) / 2, between 0 and 1", "gate"),
    }

    def probe_extras(self, cache) -> dict:
        _, hs = cache               # hs (T + 1, B, H): hs[0] is the state before the window; views show stream 0
        return {"previous": hs[:-1, 0].copy(), "openness": (1.0 + hs[1:, 0]) / 2.0}


@pytest.fixture
def echo(monkeypatch):
    monkeypatch.setitem(CELLS, NAME, EchoCell)   # the one registry line


def heatmap(at) -> dict:
    [c] = [c for c in at.get("plotly_chart") if c.proto.id.endswith("hidden_heatmap")]
    return json.loads(c.proto.spec)


def test_the_engine_trains_the_extra_cell(echo):
    tr = Trainer("hello world, hello echo. " * 8, TrainConfig(cell=NAME, hidden_size=6, seq_length=8))
    first = tr.smooth_loss
    tr.step(60)
    assert tr.iteration == 60 and tr.smooth_loss < first
    extras = tr.probe("hello").extras
    assert set(extras) == {"previous", "openness"} and extras["openness"].shape == (5, 6)
    assert np.all((extras["openness"] >= 0) & (extras["openness"] <= 1))


def test_the_extra_cell_appears_trains_and_shows_its_views(echo):
    at = session()
    selector = at.selectbox(key="cell")
    assert selector.options[-1] == EchoCell.label      # listed, under its own label, after the built-ins
    assert EchoCell.help in cell_help() and cell_label(NAME) == EchoCell.label
    selector.set_value(NAME)
    ok(at)
    small(at, hidden=6, seq=10)                        # Reset applies the cell
    tr = session_of(at.session_state).trainer
    assert tr.config.cell == NAME and in_worker(tr).model.cell.__class__ is EchoCell
    train(at, 30)
    assert tr.iteration == 30 and at.metric[0].value == "30"

    radio = at.radio(key="heatmap_view")               # the cell's own views, h first, in its order
    assert radio.options == ["hidden state h", "previous state h_prev", "openness gate"]
    radio.set_value("openness")
    ok(at)
    trace = heatmap(at)["data"][0]
    assert (trace["zmin"], trace["zmax"]) == (0.0, 1.0)   # a "gate" view: the [0, 1] scale
    assert "Openness gate" in heatmap(at)["layout"]["title"]["text"]

    for title, _ in VIEWS:                             # every look-inside view draws for it
        at.segmented_control(key="look_inside").set_value(title)
        ok(at)
        if title.startswith("Microscope"):               # ...and the microscope prints the cell's equation
            micro = [m for m in at.markdown if "**The cell:**" in m.value]
            assert micro and EchoCell.equation in micro[0].value


def test_the_cells_preset_names_exactly_the_cells_it_trains(echo):
    from ui.session.compare import PRESET_CELLS, preset_configs, preset_cells
    cells = [c.cell for c in preset_configs(TrainConfig(), PRESET_CELLS)]
    assert cells == preset_cells() == list(CELLS)[:3]


def test_trainer_in_session_state_follows_the_active_run():
    """ss["trainer"] is a view of the active run, not a copy: it reads the run of the moment."""
    at = session()
    small(at, hidden=6, seq=10)
    view = at.session_state["trainer"]
    train(at, 12)
    sess = session_of(at.session_state)
    assert (view.iteration, view.config, view.vocab, view.smooth_loss) == \
        (12, sess.trainer.config, sess.trainer.vocab, sess.trainer.smooth_loss)
    click(at, "reset")                                  # a new Trainer: the same view reads it
    assert view.iteration == 0 and sess.trainer.iteration == 0
    with pytest.raises(AttributeError, match="read-only"):
        view.iteration = 5
