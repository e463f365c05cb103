"""The look-inside views: one file per view, and VIEWS, the single list of them.

A view is `render(trainer, ss, pin)`: the active run's Trainer, the session-state mapping (for its
own widgets) and the cleaned probe input (ui/session/using.ProbeInput). The page draws a segmented
control with the titles below (key "look_inside"); only the chosen view runs, inside the live
fragment, so it updates on every Play tick. A new view is a new file here and one line in VIEWS.
"""
from __future__ import annotations

from .gradient_flow import render_gradient_flow
from .hidden_state import render_hidden_and_next
from .microscope import render_microscope
from .neuron_explorer import render_neuron_explorer
from .samples_over_time import render_samples_over_time
from .surprise import render_surprise

VIEWS = [  # (title, render)
    ("Hidden state & next character", render_hidden_and_next),
    ("Neuron explorer", render_neuron_explorer),
    ("Surprise", render_surprise),
    ("Gradient flow", render_gradient_flow),
    ("Microscope: one step", render_microscope),
    ("Samples over time", render_samples_over_time),
]

__all__ = ["VIEWS"]
