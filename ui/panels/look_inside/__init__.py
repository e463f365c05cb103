"""The look-inside views: one file per view, and VIEWS, the single list of them.

A view is a pair of functions. `request(trainer, ss, pin)` says what the run's worker must compute for
it (a small dict naming a view of ui/session/worker_views.py, with the probe text, position, unit...;
None when the view needs nothing from the worker). `render(trainer, ss, pin, snap)` draws it from that
snapshot: `trainer` is the active run's RunProxy (readouts, vocabulary, samples), `ss` the
session-state mapping (for the view's own widgets), `pin` the cleaned probe input
(ui/session/using.ProbeInput). The worker computes the snapshot after each chunk of training, so no
weights cross the wire and the page never computes a model pass. The page draws a segmented control
with the titles below (key "look_inside"); only the chosen view runs, inside the live fragment, so it
updates on every Play redraw. A new view is a new file here and one line in VIEWS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .gradient_flow import render_gradient_flow, request_gradient_flow
from .hidden_state import render_hidden_and_next, request_hidden_and_next
from .microscope import render_microscope, request_microscope
from .neuron_explorer import render_neuron_explorer, request_neuron_explorer
from .samples_over_time import render_samples_over_time, request_samples_over_time
from .surprise import render_surprise, request_surprise


@dataclass(frozen=True)
class View:
    request: Callable   # (trainer, ss, pin) -> dict | None
    render: Callable    # (trainer, ss, pin, snap) -> None

    def __call__(self, trainer, ss, pin, snap=None) -> None:
        self.render(trainer, ss, pin, snap)


VIEWS = [  # (title, view)
    ("Hidden state & next character", View(request_hidden_and_next, render_hidden_and_next)),
    ("Neuron explorer", View(request_neuron_explorer, render_neuron_explorer)),
    ("Surprise", View(request_surprise, render_surprise)),
    ("Gradient flow", View(request_gradient_flow, render_gradient_flow)),
    ("Microscope: one step", View(request_microscope, render_microscope)),
    ("Samples over time", View(request_samples_over_time, render_samples_over_time)),
]

__all__ = ["VIEWS", "View"]
