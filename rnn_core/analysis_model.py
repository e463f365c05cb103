"""Analysis that runs the model: held-out loss, gradient flow through time, one step under the microscope.

Every function here leaves the trainer exactly as it was: no update, and its parameters, gradient
buffer, optimizer state, data pointer and carried state are not touched (the tests check this bit
for bit). They work for any cell through the cell contract (rnn_core.cells).

Shapes: T = seq_length steps of the window, H hidden units, V vocabulary size.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from .model import Model, flat_views

_TINY = 1e-300  # floor for log(p): a probability that underflowed to 0 gives a huge loss, not inf



@dataclass(frozen=True)
class Window:
    """The window the trainer's NEXT iteration will train on, and the state it starts from."""

    start: int            # index into trainer.data of inputs[0]
    inputs: np.ndarray    # (T,) ids
    targets: np.ndarray   # (T,) ids, inputs shifted by one
    state0: np.ndarray    # (state_size,) a copy of the carried state (zeros after a wrap)


def next_window(trainer) -> Window:
    """The same window Trainer.step would pick next (including its reset to the start of the text).

    With several streams (batch_size B > 1) this is the first stream's window and state: the views
    follow one stream, the one that starts at the beginning of the text.
    """
    T = trainer.config.seq_length
    L = trainer.stream_length
    if trainer.pointer + T + 1 >= L or trainer.iteration == 0:
        start, state = 0, trainer.model.zero_state()
    else:
        start, state = int(trainer.pointer), np.array(trainer.state[0], dtype=float)
    d = trainer.data
    return Window(start, d[start : start + T].copy(), d[start + 1 : start + T + 1].copy(), state)


def validation_loss(model: Model, ids: np.ndarray, seq_length: int, max_chars: int = 10_000) -> float:
    """Mean loss in nats per character of `model` on a held-out id sequence (e.g. trainer.val_data).

    Read like training reads, without updates: windows of seq_length characters from the zero
    state, the state carried from one window to the next (so the result does not depend on
    seq_length, only the memory does). Only the first max_chars predictions are scored: the cost
    is one recurrent step per character, and the app runs this every few iterations.
    """
    ids = np.asarray(ids, dtype=np.intp).ravel()[: int(max_chars) + 1]
    if len(ids) < 2:
        raise ValueError("A validation loss needs at least 2 held-out characters; hold out a larger part of the text.")
    if seq_length < 1:
        raise ValueError(f"seq_length must be at least 1, got {seq_length}.")
    state, total = model.zero_state(), 0.0
    for s in range(0, len(ids) - 1, seq_length):
        targets = ids[s + 1 : s + seq_length + 1]
        fw = model.forward(ids[s : s + len(targets)], state)
        total -= np.log(np.maximum(fw.probs[np.arange(len(targets)), targets], _TINY)).sum()
        state = fw.state
    return float(total / (len(ids) - 1))


def _backward_window(model: Model, inputs, targets, state0):
    """BPTT over one window into fresh buffers. Returns (loss, dhs (T, H) total dL/dh_t, grads)."""
    fw = model.forward(inputs, np.array(state0, dtype=float))
    rows = np.arange(len(inputs))
    dscores = fw.probs                                   # (T, V), made p - onehot in place
    loss = float(-np.log(np.maximum(dscores[rows, targets], _TINY)).sum())
    dscores[rows, targets] -= 1.0
    dhs = dscores @ model.params["Why"]                  # (T, H) from the output layer only...
    _, grads = flat_views({k: v.shape for k, v in model.params.items()})
    model.cell.backward(model.params, fw.cache, dhs, grads)   # ...and now the total (cell contract)
    np.dot(dscores.T, fw.hidden, out=grads["Why"])
    dscores.sum(axis=0, out=grads["by"])
    return loss, dhs, grads


@dataclass
class GradFlow:
    """Gradients of the trainer's next window, before clipping."""

    norms: np.ndarray                 # (T,) ‖dL/dh_t‖, total (from the output at t and from step t+1)
    clipped_share: dict[str, float]   # param -> share of entries with |g| > clip (0 when clipping is off)
    grad_norms: dict[str, float]      # param -> L2 norm of its raw gradient
    loss: float                       # nats, summed over the window
    clip: float | None                # the trainer's clip value
    start: int                        # window start in trainer.data
    chars: str                        # (T,) the window's input characters


def gradient_flow(trainer) -> GradFlow:
    """How far the gradient reaches back through the window the trainer will train on next.

    Runs the same forward and backward pass as Trainer.step would, on copies; nothing changes.
    A share of clipped entries near 1 means exploding gradients; norms falling towards t = 0
    mean vanishing ones.
    """
    w = next_window(trainer)
    loss, dhs, grads = _backward_window(trainer.model, w.inputs, w.targets, w.state0)
    clip = trainer.config.clip
    share = {k: float(np.count_nonzero(np.abs(g) > clip) / g.size) if clip else 0.0 for k, g in grads.items()}
    norms = {k: float(np.linalg.norm(g)) for k, g in grads.items()}
    return GradFlow(np.linalg.norm(dhs, axis=1), share, norms, loss, clip, w.start, trainer.vocab.decode(w.inputs))


def _copy_model(model: Model) -> Model:
    """An independent model with the same parameters (deepcopy would cut the views off the flat buffer)."""
    twin = Model(model.cell.name, model.V, model.H, np.random.default_rng(0))
    twin.flat[...] = model.flat
    return twin


def microscope(trainer, position: int, *, update: str = "sgd", learning_rate: float | None = None) -> dict:
    """One character of the trainer's next window, walked through as seeds 000 and 004 do.

    Character `position` (0..T-1) of the window is the input x; the next character is the target.
    The state before it comes from running the window's first `position` characters from the
    carried state. Returned (a plain dict; V and H arrays are float64 copies):
      position, input_char, input_id, target_char, target_id
      onehot (V,)    x, the one-hot input
      h_prev (H,)    hidden vector before the step (for an LSTM, the h half of [h, c])
      h (H,)         hidden vector after it
      scores (V,)    y = Why·h + by, unnormalised log-probabilities
      probs (V,)     p = softmax(y)
      dscores (V,)   dL/dy = p − onehot(target), the gradient on the scores
      p_before, loss_before     p(target) and −log p(target) now
      p_after, loss_after       the same after ONE update of a copy of the model on this step's loss
      update, learning_rate     which update was made: "sgd" (w −= lr·g, no clipping: the
                                notebooks' step) or "trainer" (the trainer's optimizer, with its
                                accumulated state copied, after the trainer's clipping)
      formula        the cell's equation, written the correct way
      terms          RNN only: {"Wxh·x", "Whh·h_prev", "bh"} (H,) each, the three parts of the
                     pre-activation, and "bias_inside_gap": max |h − tanh(Wxh·x + Whh·(h_prev + bh))|,
                     how far the seeds' walk-through form (bias inside the product) is off; it is
                     0 while bh = 0, which is why the mistake goes unnoticed at initialisation.
    The learning rate defaults to the trainer's. The update uses the loss of this single step with
    h_prev held fixed, as the notebooks do (their dWhh uses h instead of h_prev, another slip: with
    h_prev = 0 the true dWhh is 0). The trainer itself is never changed.
    """
    w = next_window(trainer)
    T = len(w.inputs)
    if not isinstance(position, (int, np.integer)) or not 0 <= position < T:
        raise ValueError(f"Pick a character of the window: a position from 0 to {T - 1}, not {position!r}.")
    if update not in ("sgd", "trainer"):
        raise ValueError(f"update must be 'sgd' (the notebooks' step) or 'trainer' (its optimizer), not {update!r}.")
    lr = trainer.config.learning_rate if learning_rate is None else float(learning_rate)
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"The learning rate must be a positive number, not {learning_rate!r}.")
    model, vocab, H = trainer.model, trainer.vocab, trainer.model.H
    state = w.state0 if position == 0 else model.forward(w.inputs[:position], w.state0).state
    x_id, y_id = int(w.inputs[position]), int(w.targets[position])
    inp, tgt = np.array([x_id]), np.array([y_id])
    fw = model.forward(inp, state)
    h, probs = fw.hidden[0].copy(), fw.probs[0].copy()
    scores = model.params["Why"] @ h + model.params["by"]
    dscores = probs.copy()
    dscores[y_id] -= 1.0
    onehot = np.zeros(model.V)
    onehot[x_id] = 1.0

    twin = _copy_model(model)
    twin.grads_into_buffer(inp, tgt, state)
    if update == "sgd":
        twin.flat -= lr * twin.flat_grad
    else:
        clip = trainer.config.clip
        if clip:
            np.clip(twin.flat_grad, -clip, clip, out=twin.flat_grad)
        copy.deepcopy(trainer.optimizer).update(twin.flat, twin.flat_grad, lr)
    p_after = float(twin.forward(inp, state).probs[0, y_id])

    out = {
        "position": int(position), "input_char": vocab.chars[x_id], "input_id": x_id,
        "target_char": vocab.chars[y_id], "target_id": y_id,
        "onehot": onehot, "h_prev": np.array(state[:H], dtype=float), "h": h,
        "scores": scores, "probs": probs, "dscores": dscores,
        "p_before": float(probs[y_id]), "loss_before": float(-math.log(max(probs[y_id], _TINY))),
        "p_after": p_after, "loss_after": float(-math.log(max(p_after, _TINY))),
        "update": update, "learning_rate": lr,
        "formula": getattr(model.cell, "equation", ""), "terms": {},
    }
    if model.cell.name == "rnn":
        p = model.params
        h_prev = out["h_prev"]
        terms = {"Wxh·x": p["Wxh"][:, x_id].copy(), "Whh·h_prev": p["Whh"] @ h_prev, "bh": p["bh"].copy()}
        seed_form = np.tanh(terms["Wxh·x"] + p["Whh"] @ (h_prev + p["bh"]))
        terms["bias_inside_gap"] = float(np.abs(seed_form - h).max())
        out["terms"] = terms
    return out
