"""Sidebar: model settings (apply on Reset) and optimizer settings (apply now)."""
from __future__ import annotations

import streamlit as st

from rnn_core import limits
from rnn_core.cells import CELLS
from rnn_core.optim import OPTIMIZERS

from ..session import bounds, presets, state
from ..session.session import session_of
from ..session.widgets import HOLD_OUT_FRACTION, cell_options
from .common import show_notices


def cell_help() -> str:
    """The cell selector's help: one sentence or two per registered cell, from the cell itself."""
    parts = [f"**{name.upper()}**: {getattr(cls, 'help', '')}" for name, cls in CELLS.items()]
    return ("The recurrent unit that carries memory from one character to the next. " + " ".join(parts)
            + " Applies on Reset.")


def cell_label(name: str) -> str:
    return getattr(CELLS.get(name), "label", name.upper())


MAX_SEED = 2**31 - 1
OPTIMIZER_LABELS = {"adagrad": "Adagrad (min-char-rnn)", "sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"}


def render_preset(ss) -> None:
    """The preset switch: it shows the preset the sidebar's values are (nothing = custom) and fills them."""
    ss[presets.PRESET_KEY] = presets.widget_preset(ss)  # before the widget: it follows edits to the boxes below
    st.segmented_control(
        "Training settings", list(presets.PAGE_PRESETS), key=presets.PRESET_KEY, format_func=presets.LABELS.get,
        on_change=presets.apply_preset, args=(ss,), width="stretch",
        help="Fills streams, optimizer, learning rate and clip below. **Fast** learns in seconds: "
             f"{presets.FAST['batch_size']} streams read the text in parallel. **min-char-rnn, exactly** is "
             "Karpathy's program: one stream, Adagrad, learning rate 0.1, clip 5. Streams apply on Reset.")
    name = ss.get(presets.PRESET_KEY)
    st.caption(presets.PAGE_PRESETS[name]["description"] + "." if name else
               "Custom: your own mix (neither preset). Pick one to fill the boxes below.")


def render_settings(ss) -> None:
    render_preset(ss)
    st.subheader("Model", help="Changing these needs a new model: they apply when you press Reset.")
    st.caption(":material/pending: **Applies on Reset** (the current model keeps training until then).")
    model_cell = session_of(ss).trainer.config.cell
    st.selectbox("Cell", cell_options(), key="cell", format_func=cell_label, help=cell_help())
    if ss.get("cell") != model_cell:
        st.caption(f":material/pending: The model is still a {model_cell.upper()}: the "
                   f"{str(ss['cell']).upper()} starts when you press **Reset & apply** (or **Add a run** under "
                   "Compare runs, to train both side by side).")
    # The number boxes take any number and `bounds.clamp` says the limit when one is hit (a box with
    # min/max would just turn red and keep its old value without a word).
    st.number_input(f"Hidden units H (1–{limits.MAX_HIDDEN})", step=10, key="hidden_size",
                    on_change=bounds.clamp, args=(ss, "hidden_size", 1, limits.MAX_HIDDEN, "settings", "Hidden units"),
                    help="Size of the memory vector carried from character to character.")
    st.number_input(f"Sequence length T (1–{limits.MAX_SEQ_LENGTH})", step=5, key="seq_length",
                    on_change=bounds.clamp_seq_length, args=(ss,),
                    help="Characters per training window: backpropagation goes back this many steps.")
    st.number_input(f"Streams B (1–{limits.MAX_BATCH}; B × T at most {limits.MAX_BATCH_CHARS:,})", step=1,
                    key="batch_size", on_change=bounds.clamp_streams, args=(ss,),
                    help="How many windows are read side by side, from evenly spaced places in the text, before "
                         "one update (their gradients are averaged). 1 is min-char-rnn: one update per window. "
                         "More streams read more characters per second and give steadier updates.")
    st.number_input("Seed", step=1, key="seed", on_change=bounds.clamp,
                    args=(ss, "seed", 0, MAX_SEED, "settings", "Seed"),
                    help="The random initial weights come from this seed: the same seed, the same run.")
    st.checkbox(f"Hold out the last {HOLD_OUT_FRACTION:.0%} of the text", key="hold_out",
                help="The model never trains on the end of the text; the loss chart adds its loss there "
                     "(held-out), every few iterations. Training loss below held-out loss means memorising.")

    st.subheader("Optimizer", help="These change the running model immediately.")
    st.caption(":material/bolt: **Applies now**, without a reset.")
    st.selectbox("Optimizer", list(OPTIMIZERS), key="optimizer", format_func=lambda o: OPTIMIZER_LABELS.get(o, o),
                 on_change=state.apply_live_settings, args=(ss,),
                 help="Switching starts the new optimizer's memory fresh; the weights stay.")
    st.number_input("Learning rate (0.00001–100)", step=0.01, format="%.5g", key="learning_rate",
                    on_change=bounds.clamp, args=(ss, "learning_rate", 1e-5, 100.0, "settings", "Learning rate"),
                    kwargs={"then": state.apply_live_settings},
                    help="Step size of each update. Too high and the loss jumps up or training diverges.")
    st.number_input("Gradient clip (0 = off, up to 1000)", step=1.0, format="%g", key="clip",
                    on_change=bounds.clamp, args=(ss, "clip", 0.0, 1000.0, "settings", "Gradient clip"),
                    kwargs={"then": state.apply_live_settings},
                    help="Each gradient entry is clipped to [−clip, clip], which keeps updates from exploding.")
    show_notices(ss, "settings")
