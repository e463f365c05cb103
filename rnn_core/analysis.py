"""Insight computations for the playground's analysis views (numpy only).

    text_features, unit_correlations, rank_units, unit_activation   neuron explorer
    surprise                                                        surprise strip
    ngram_entropies, validation_loss, validation_due                baselines on the loss chart
    gradient_flow -> GradFlow                                       gradient flow through time
    microscope                                                      one step under the microscope
    sample_iterations, nearest_sample                               samples over time

Model-free parts live in analysis_text, the ones that run the model in analysis_model; none
changes the trainer it reads.
"""
from .analysis_model import GradFlow, Window, gradient_flow, microscope, next_window, validation_loss
from .analysis_text import (
    FEATURES, nearest_sample, ngram_entropies, rank_units, sample_iterations, surprise, text_features,
    unit_activation, unit_correlations, validation_due,
)

__all__ = [
    "FEATURES", "GradFlow", "Window", "gradient_flow", "microscope", "nearest_sample",
    "next_window", "ngram_entropies", "rank_units", "sample_iterations", "surprise", "text_features",
    "unit_activation", "unit_correlations", "validation_due", "validation_loss",
]
