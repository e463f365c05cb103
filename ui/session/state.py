"""The actions that replace, reset or reconfigure the session's runs, as the page's callbacks call them.

Each action takes the session-state mapping (``st.session_state`` on the page, a plain dict in tests),
reads the widget values it needs by their keys (ui/session/widgets.py) and changes the runs through the
Session's methods (ui/session/session.py). Errors a person can cause (a bad file, a setting out of
range, divergence) become notices; they never raise into the page, and a failed action leaves the runs
exactly as they were (a new Trainer is built before anything is replaced).
"""
from __future__ import annotations

from assets.corpora import CORPORA, read_corpus
from rnn_core import LIVE_FIELDS, TextError, TrainConfig, Trainer, limits

from .names import md_escape
from .presets import fit_streams
from .session import Run, State, session_of
from .widgets import DEFAULT_CORPUS, changed_settings, sync_widgets

PROBE_DEFAULT_CHARS = 80     # default probe: the first 80 characters of the training text
MAX_RUNS = 3                 # compare mode trains at most this many runs together


def init_state(ss: State) -> None:
    """Fill in whatever is missing: the session (with the widget defaults) and a first run."""
    sess = session_of(ss)
    if sess.runs:
        return
    text = read_corpus(ss["corpus"]) if ss["corpus"] in CORPORA else read_corpus(DEFAULT_CORPUS)
    try:
        cfg, fitted = fit_streams(ss, text, ss["corpus"])  # a short text gets fewer streams
        trainer = Trainer(text, cfg)
        fitted()
    except ValueError:   # settings from an odd session: fall back to the defaults
        trainer = Trainer(text, TrainConfig())
        sync_widgets(ss, trainer.config)
    install(ss, [Run(trainer, ss["corpus"])])


def install(ss: State, new_runs: list[Run], active: int = 0) -> None:
    """Make `new_runs` the session's runs and point the text-dependent widgets at the new text."""
    session_of(ss).install(new_runs, active)
    _after_install(ss)


def _after_install(ss: State) -> None:
    """Point the text-dependent widgets at the active run's text."""
    text = session_of(ss).trainer.text
    ss["probe_text"] = default_probe_text(text)
    ss["probe_pos"] = 0
    ss["seed_char"] = text[0]


def pending_changes(ss: State) -> list[tuple[str, object, object]]:
    """Reset-required settings whose widget value differs from the active run: (label, now, on Reset)."""
    return changed_settings(ss, session_of(ss).trainer.config)


# ---- text sources --------------------------------------------------------------------------
def corpus_options(ss: State) -> list[str]:
    """The built-in texts, then every other text this session has a run for (uploads, checkpoints)."""
    sess = session_of(ss)
    opts = list(CORPORA)
    extra = sess.texts() if sess.runs else []
    if sess.custom_text:
        extra.append(sess.custom_text[0])
    for name in extra:
        if name not in opts:
            opts.append(name)
    return opts


def corpus_text(ss: State, name: str) -> str:
    if name in CORPORA:
        return read_corpus(name)
    sess = session_of(ss)
    if sess.runs and sess.active_run.source == name:
        return sess.trainer.text
    if name in sess.parked:
        return sess.parked[name].runs[0].trainer.text
    custom = sess.custom_text
    if custom and custom[0] == name:
        return custom[1]
    raise TextError(f"There is no text called {name!r} any more; pick a built-in corpus or upload the file again.")


def text_label(text: str, fallback: str) -> str:
    """The label of a run's text: the built-in corpus it is, if any (a checkpoint trained on prose is on
    "prose", whatever its file is called), else `fallback`."""
    for name in CORPORA:
        if read_corpus(name) == text:
            return name
    return fallback


def default_probe_text(text: str) -> str:
    return text[: min(PROBE_DEFAULT_CHARS, limits.MAX_PROBE_CHARS)]


# ---- actions (callbacks) -------------------------------------------------------------------
def new_run(ss: State, text: str, source: str, origin: str = "") -> Run:
    """A fresh run on `text` with the sidebar's settings. The current runs are parked under their text
    (unless it is the same text), and this becomes `source`'s one run."""
    cfg, fitted = fit_streams(ss, text, source)  # a short text gets fewer streams
    run = Run(Trainer(text, cfg), source, origin=origin)  # raises before anything changes
    fitted()
    _leave_text(ss, source)
    install(ss, [run])
    return run


def _leave_text(ss: State, new_source: str) -> None:
    """Before the session's runs are replaced by runs on `new_source`: park them (another text), and
    forget an older parked group of `new_source` (one run per text)."""
    sess = session_of(ss)
    sess.park(unless=new_source)
    sess.parked.pop(new_source, None)


def switch_corpus(ss: State) -> None:
    """The text selector changed: back to that text's run if it has one, else a new run on it."""
    sess, name = session_of(ss), ss["corpus"]
    if sess.runs and name == sess.active_run.source:
        return
    if sess.unpark(name):
        _after_install(ss)
        sync_widgets(ss, sess.trainer.config)
        sess.notify("data", "success", f"Back to your run on “{name}”, at iteration {sess.trainer.iteration:,}.")
        return
    try:
        new_run(ss, corpus_text(ss, name), name)
    except ValueError as err:
        source = sess.active_run.source
        ss["corpus"] = source if source in corpus_options(ss) else DEFAULT_CORPUS
        sess.notify("data", "error", md_escape(err))
        return
    sess.notify("data", "success", f"New run on “{md_escape(name)}”. Your other texts keep their runs: pick one to "
                                   "go back to it.")


def restore(ss: State, trainer: Trainer, label: str, run_id: str | None = None, origin: str = "") -> None:
    """Make a loaded trainer the session's run (its text's one run), with its settings shown in the sidebar.

    `run_id` keeps a known id (a run reopened from the run store or the URL); default: a new one.
    The runs of another text are parked, as when the text selector changes.
    """
    run = Run(trainer, label, origin=origin) if run_id is None else Run(trainer, label, run_id=run_id, origin=origin)
    _leave_text(ss, label)
    install(ss, [run])
    if label not in CORPORA:  # a built-in name is already in the selector (a run reopened from the store)
        session_of(ss).custom_text = (label, trainer.text)
    ss["corpus"] = label
    sync_widgets(ss, trainer.config)


def add_run(ss: State, config: TrainConfig) -> Run:
    """Compare mode: another run on the active run's text, trained in lock step with the others.

    The new run starts at iteration 0 whatever the others are at; the active run stays active.
    """
    sess = session_of(ss)
    if len(sess.runs) >= MAX_RUNS:
        raise ValueError(f"At most {MAX_RUNS} runs can train side by side; remove one first.")
    base = sess.active_run
    run = Run(Trainer(base.trainer.text, config), base.source)
    sess.add(run)
    return run


def apply_live_settings(ss: State) -> None:
    """Optimizer, learning rate or clip changed: apply to the active run at once."""
    sess = session_of(ss)
    clip = float(ss["clip"])
    changes = {"optimizer": str(ss["optimizer"]), "learning_rate": float(ss["learning_rate"]),
               "clip": clip if clip > 0 else None}
    tr = sess.trainer
    try:
        with sess.lock:
            tr.apply_live(**{k: v for k, v in changes.items() if k in LIVE_FIELDS})
    except ValueError as err:
        sync_widgets(ss, tr.config)
        sess.notify("settings", "error", str(err))


def reset(ss: State) -> None:
    """Start the active run again from scratch with the sidebar's settings (pending ones included).

    With several runs (compare mode) the others restart too, with their own settings, so they stay
    in lock step.
    """
    sess = session_of(ss)
    run = sess.active_run
    try:
        cfg, fitted = fit_streams(ss, run.trainer.text, run.source)  # a short text gets fewer streams
        new = Run(Trainer(run.trainer.text, cfg), run.source)
    except ValueError as err:
        sess.notify("controls", "error", f"Reset failed, the run is unchanged: {err}")
        return
    fitted()
    new_runs = [Run(Trainer(r.trainer.text, r.trainer.config), r.source) for r in sess.runs]
    new_runs[sess.active] = new
    install(ss, new_runs, sess.active)


def set_playing(ss: State, playing: bool) -> None:
    """Play/Pause sets the state its label promised rather than toggling: if the browser delivers one
    click twice (a click racing a Play tick's rerun), Pause still means paused."""
    session_of(ss).playing = bool(playing)


def sample_with_widgets(ss: State, trainer: Trainer, seed_char: str) -> str:
    """`trainer`'s text after `seed_char` with the sampling widgets' length, temperature, top-k, greedy and seed.

    Raises ValueError for a request the run refuses (e.g. a seed character it has never seen).
    """
    top_k = int(ss.get("top_k") or 0)
    return trainer.sample(seed_char, int(ss["sample_length"]), temperature=float(ss["temperature"]),
                          top_k=top_k if top_k > 0 else None, greedy=bool(ss.get("greedy")),
                          seed=int(ss.get("sample_seed", 0)))


__all__ = [
    "MAX_RUNS", "init_state", "install", "pending_changes", "corpus_options", "corpus_text", "default_probe_text",
    "new_run", "switch_corpus", "text_label", "restore", "add_run", "apply_live_settings", "reset", "set_playing",
    "sample_with_widgets",
]
