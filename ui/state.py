"""The session's runs, its settings widgets and the actions that replace or reset runs, without Streamlit.

Built on this module (same conventions): ui/training.py (Train, Play ticks, lock step),
ui/uploads.py (the two file uploaders), ui/using.py (probe input, checkpoint download) and
ui/compare.py (compare mode).

Each action takes the session-state mapping (``st.session_state`` on the page, a plain
dict in tests), reads the widget values it needs from it by their keys, and changes the
runs. Errors a person can cause (a bad file, a setting out of range, divergence) become
notices (see ``notify``/``take_notices``); they never raise into the page, and a failed
action leaves the runs exactly as they were (a new Trainer is built before anything is
replaced).

Session-state layout (widget keys in ``WIDGET_DEFAULTS``):
    runs          list[Run]   the runs of this session, trained in lock step by `training.train`
                              (one run in single mode; compare mode holds up to MAX_RUNS)
    active        int         index in `runs` of the run the single-run panels show
    trainer       Trainer     == runs[active].trainer (the tests' contract; kept in sync)
    playing       bool        Play is on: the live fragment trains a batch each tick
    custom_text   (label, text) | None   the last uploaded text or loaded checkpoint's text,
                              offered in the corpus selector next to the built-ins
    seen_uploads  set[str]    file_ids already processed, so a rerun never repeats one (ui/uploads.py)
    file_errors   {uploader key: (file_id, message)}   why the file still in that uploader was refused
    notices       {area: [(kind, message)]}   messages waiting for their panel
    sample        str         the last generated text, WITHOUT the seed character
    sample_seed_char  str     the seed character that `sample` continues
    train_rate    float       measured iterations/s of the whole lock-step group (sizes Play ticks)
    last_train    dict        {"iters", "seconds"} of the last Train click or tick
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import MutableMapping

from assets.corpora import CORPORA, read_corpus
from rnn_core import CheckpointError, LIVE_FIELDS, TextError, TrainConfig, Trainer, limits
from rnn_core.cells import CELLS

State = MutableMapping  # st.session_state or a dict

DEFAULT_CORPUS = "prose"
PROBE_DEFAULT_CHARS = 80     # default probe: the first 80 characters of the training text
MAX_RUNS = 3                 # compare mode (issue 6) trains at most this many runs together
RESET_FIELDS = ("cell", "hidden_size", "seq_length", "seed")  # need a new Trainer
CELL_LABELS = {"rnn": "RNN (tanh, min-char-rnn)", "lstm": "LSTM", "gru": "GRU"}
FIELD_LABELS = {"cell": "cell", "hidden_size": "hidden size", "seq_length": "sequence length", "seed": "seed"}
HOLD_OUT_FRACTION = 0.1      # widget "hold_out" (applies on Reset): the last 10% of the text is never trained on

_DEFAULT_CONFIG = TrainConfig()
WIDGET_DEFAULTS = {
    "corpus": DEFAULT_CORPUS,
    "n_iters": 100,
    "cell": _DEFAULT_CONFIG.cell,
    "hidden_size": _DEFAULT_CONFIG.hidden_size,
    "seq_length": _DEFAULT_CONFIG.seq_length,
    "seed": _DEFAULT_CONFIG.seed,
    "optimizer": _DEFAULT_CONFIG.optimizer,
    "learning_rate": _DEFAULT_CONFIG.learning_rate,
    "clip": float(_DEFAULT_CONFIG.clip or 0.0),
    "unit": "nats",
    "probe_pos": 0,
    "sample_length": 200,
    "temperature": 1.0,
    "greedy": False,
    "top_k": 0,
    "sample_seed": 0,
    "hold_out": False,
}


def cell_options() -> list[str]:
    """The cells the engine has, in teaching order."""
    return [c for c in ("rnn", "lstm", "gru") if c in CELLS] + sorted(set(CELLS) - {"rnn", "lstm", "gru"})


@dataclass
class Run:
    """One training run: a trainer and where its text came from."""

    trainer: Trainer
    source: str                                   # corpus name, "📄 file.txt" or "💾 run.npz"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # for ?run=<id> (issue 5)
    error: str | None = None                      # the last divergence message, if any
    needs_reset: bool = False                     # that divergence left a model only Reset can fix

    @property
    def name(self) -> str:
        c = self.trainer.config
        return f"{c.cell.upper()} H={c.hidden_size}"


# ---- notices -------------------------------------------------------------------------------
def notify(ss: State, area: str, kind: str, message: str) -> None:
    """Queue a message ('error' | 'warning' | 'success' | 'info') for the panel of `area`."""
    ss.setdefault("notices", {}).setdefault(area, []).append((kind, message))


def take_notices(ss: State, area: str) -> list[tuple[str, str]]:
    return ss.setdefault("notices", {}).pop(area, [])


# ---- session setup -------------------------------------------------------------------------
def init_state(ss: State) -> None:
    """Fill in whatever is missing: widget defaults and a first run on the default corpus."""
    for key, value in WIDGET_DEFAULTS.items():
        ss.setdefault(key, value)
    ss.setdefault("playing", False)
    ss.setdefault("custom_text", None)
    ss.setdefault("seen_uploads", set())
    ss.setdefault("notices", {})
    ss.setdefault("sample", "")
    ss.setdefault("sample_seed_char", "")
    ss.setdefault("train_rate", 0.0)
    ss.setdefault("last_train", {"iters": 0, "seconds": 0.0})
    training_lock(ss)  # made here, on the first run, before any second thread can race for it
    if not ss.get("runs"):
        text = read_corpus(ss["corpus"]) if ss["corpus"] in CORPORA else read_corpus(DEFAULT_CORPUS)
        try:
            trainer = Trainer(text, config_from_widgets(ss))
        except ValueError:   # settings from an odd session: fall back to the defaults
            trainer = Trainer(text, TrainConfig())
            sync_widgets(ss, trainer.config)
        _install(ss, [Run(trainer, ss["corpus"])])


def training_lock(ss: State) -> threading.RLock:
    """The session's lock around every change to its runs' weights (train, compare's catch-up).

    Streamlit's fast reruns (runner.fastReruns, on by default) start the next run of the script in a
    new thread while the old one is still inside Trainer.step: the old run only stops at its next
    st call. Without this lock a click during a Play tick trains the same runs from two threads at
    once (seen in the browser: compare-mode runs a few iterations apart after Pause).
    """
    lock = ss.get("_train_lock")
    if lock is None:
        lock = ss.setdefault("_train_lock", threading.RLock())
    return lock


def runs(ss: State) -> list[Run]:
    return ss["runs"]


def active_run(ss: State) -> Run:
    return ss["runs"][ss["active"]]


def set_active(ss: State, index: int) -> None:
    ss["active"] = index
    ss["trainer"] = ss["runs"][index].trainer


def _install(ss: State, new_runs: list[Run], active: int = 0) -> None:
    """Make `new_runs` the session's runs and refresh what depends on the active text."""
    ss["runs"] = new_runs
    set_active(ss, active)
    tr = ss["trainer"]
    ss["probe_text"] = default_probe_text(tr.text)
    ss["probe_pos"] = 0
    ss["seed_char"] = tr.text[0]
    ss["sample"] = ""
    ss["sample_seed_char"] = ""
    ss["playing"] = False
    ss["train_rate"] = 0.0


def config_from_widgets(ss: State) -> TrainConfig:
    """The settings the sidebar shows now (validated)."""
    clip = float(ss["clip"])
    cfg = TrainConfig(
        cell=str(ss["cell"]), hidden_size=int(ss["hidden_size"]), seq_length=int(ss["seq_length"]),
        seed=int(ss["seed"]), optimizer=str(ss["optimizer"]), learning_rate=float(ss["learning_rate"]),
        clip=clip if clip > 0 else None, val_fraction=HOLD_OUT_FRACTION if ss.get("hold_out") else 0.0,
    )
    cfg.validate()
    return cfg


def sync_widgets(ss: State, cfg: TrainConfig) -> None:
    """Show a run's settings in the sidebar (call before the widgets are drawn: in a callback)."""
    for name in RESET_FIELDS + ("optimizer",):
        ss[name] = getattr(cfg, name)
    ss["learning_rate"] = float(cfg.learning_rate)
    ss["clip"] = float(cfg.clip or 0.0)
    ss["hold_out"] = cfg.val_fraction > 0


def pending_changes(ss: State) -> list[tuple[str, object, object]]:
    """Reset-required settings whose widget value differs from the active run: (label, now, on Reset)."""
    cfg = ss["trainer"].config
    out = []
    for name in RESET_FIELDS:
        now, wanted = getattr(cfg, name), ss.get(name, getattr(cfg, name))
        if now != wanted:
            if name == "cell":
                now, wanted = now.upper(), str(wanted).upper()
            out.append((FIELD_LABELS[name], now, wanted))
    held = cfg.val_fraction > 0
    if bool(ss.get("hold_out", held)) != held:
        out.append(("validation hold-out", "on" if held else "off", "off" if held else "on"))
    return out


# ---- text sources --------------------------------------------------------------------------
def corpus_options(ss: State) -> list[str]:
    opts = list(CORPORA)
    if ss.get("custom_text"):
        opts.append(ss["custom_text"][0])
    return opts


def corpus_text(ss: State, name: str) -> str:
    if name in CORPORA:
        return read_corpus(name)
    custom = ss.get("custom_text")
    if custom and custom[0] == name:
        return custom[1]
    raise TextError(f"There is no text called {name!r} any more; pick a built-in corpus or upload the file again.")


def default_probe_text(text: str) -> str:
    return text[: min(PROBE_DEFAULT_CHARS, limits.MAX_PROBE_CHARS)]


# ---- actions (callbacks) -------------------------------------------------------------------
def new_run(ss: State, text: str, source: str) -> Run:
    """A fresh run on `text` with the sidebar's settings; replaces the session's runs."""
    run = Run(Trainer(text, config_from_widgets(ss)), source)  # raises before anything changes
    _install(ss, [run])
    return run


def switch_corpus(ss: State) -> None:
    """The corpus selector changed: start a new run on that text."""
    name = ss["corpus"]
    try:
        new_run(ss, corpus_text(ss, name), name)
    except ValueError as err:
        ss["corpus"] = active_run(ss).source if active_run(ss).source in corpus_options(ss) else DEFAULT_CORPUS
        notify(ss, "data", "error", str(err))
        return
    notify(ss, "data", "success", f"New run on “{name}”.")


def restore(ss: State, trainer: Trainer, label: str, run_id: str | None = None) -> None:
    """Make a loaded trainer the session's run, with its settings shown in the sidebar.

    `run_id` keeps a known id (a run reopened from the run store / the URL); default: a new one.
    """
    run = Run(trainer, label) if run_id is None else Run(trainer, label, run_id=run_id)
    _install(ss, [run])
    if label not in CORPORA:  # a built-in name is already in the selector (a run reopened from the store)
        ss["custom_text"] = (label, trainer.text)
    ss["corpus"] = label
    sync_widgets(ss, trainer.config)


def add_run(ss: State, config: TrainConfig) -> Run:
    """Compare mode: another run on the active run's text, trained in lock step with the others.

    The new run starts at iteration 0 whatever the others are at; the active run stays active.
    """
    if len(ss["runs"]) >= MAX_RUNS:
        raise ValueError(f"At most {MAX_RUNS} runs can train side by side; remove one first.")
    base = active_run(ss)
    run = Run(Trainer(base.trainer.text, config), base.source)
    ss["runs"] = ss["runs"] + [run]
    return run


def apply_live_settings(ss: State) -> None:
    """Optimizer, learning rate or clip changed: apply to the active run at once."""
    clip = float(ss["clip"])
    changes = {"optimizer": str(ss["optimizer"]), "learning_rate": float(ss["learning_rate"]),
               "clip": clip if clip > 0 else None}
    tr = ss["trainer"]
    try:
        tr.apply_live(**{k: v for k, v in changes.items() if k in LIVE_FIELDS})
    except ValueError as err:
        sync_widgets(ss, tr.config)
        notify(ss, "settings", "error", str(err))


def reset(ss: State) -> None:
    """Start the active run again from scratch with the sidebar's settings (pending ones included).

    With several runs (compare mode) the others restart too, with their own settings.
    """
    run = active_run(ss)
    try:
        new = Run(Trainer(run.trainer.text, config_from_widgets(ss)), run.source)
    except ValueError as err:
        notify(ss, "controls", "error", f"Reset failed, the run is unchanged: {err}")
        return
    # Compare mode: every run starts again too (each with its own settings), so they stay in lock step.
    new_runs = [Run(Trainer(r.trainer.text, r.trainer.config), r.source) for r in ss["runs"]]
    new_runs[ss["active"]] = new
    _install(ss, new_runs, ss["active"])


def set_playing(ss: State, playing: bool) -> None:
    """Play/Pause sets the state its label promised rather than toggling: if the browser delivers one
    click twice (a click racing a Play tick's rerun), Pause still means paused."""
    ss["playing"] = bool(playing)


# ---- sampling ------------------------------------------------------------------------------
def sample_with_widgets(ss: State, trainer: Trainer, seed_char: str) -> str:
    """`trainer`'s text after `seed_char` with the sampling widgets' length, temperature, top-k, greedy and seed.

    Raises ValueError for a request the run refuses (e.g. a seed character it has never seen).
    """
    top_k = int(ss.get("top_k") or 0)
    return trainer.sample(seed_char, int(ss["sample_length"]), temperature=float(ss["temperature"]),
                          top_k=top_k if top_k > 0 else None, greedy=bool(ss.get("greedy")),
                          seed=int(ss.get("sample_seed", 0)))


def generate(ss: State) -> None:
    """Sample from the active run with the sampling widgets; the text lands in ss["sample"]."""
    tr = ss["trainer"]
    seed_char = ss.get("seed_char") or tr.text[0]
    try:
        text = sample_with_widgets(ss, tr, seed_char)
    except ValueError as err:
        notify(ss, "sample", "error", str(err))
        return
    ss["sample"] = text
    ss["sample_seed_char"] = seed_char


__all__ = [
    "Run", "WIDGET_DEFAULTS", "init_state", "training_lock", "active_run", "runs", "set_active",
    "config_from_widgets", "sync_widgets", "pending_changes", "corpus_options", "corpus_text", "switch_corpus",
    "new_run", "restore", "add_run", "apply_live_settings", "reset", "set_playing",
    "sample_with_widgets", "generate", "notify", "take_notices", "cell_options", "CheckpointError",
]
