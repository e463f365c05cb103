"""The actions that replace, reset or reconfigure the session's runs, as the page's callbacks call them.

Each action takes the session-state mapping (``st.session_state`` on the page, a plain dict in tests),
reads the widget values it needs by their keys (ui/session/widgets.py) and changes the runs through the
Session's methods (ui/session/session.py). Errors a person can cause (a bad file, a setting out of
range, divergence) become notices; they never raise into the page, and a failed action leaves the runs
exactly as they were (the new runs' workers start before anything is replaced).
"""
from __future__ import annotations

from dataclasses import asdict

from assets.corpora import CORPORA, read_corpus
from rnn_core import LIVE_FIELDS, TextError, TrainConfig, Trainer, limits
from rnn_core.checkpoint import to_bytes

from .names import md_escape
from .presets import fit_streams
from .session import Run, RunSpec, State, session_of
from .widgets import DEFAULT_CORPUS, changed_settings, sync_widgets

PROBE_DEFAULT_CHARS = 80     # default probe: the first 80 characters of the training text
MAX_RUNS = 3                 # compare mode trains at most this many runs together


def run_meta(ss: State, source: str) -> dict:
    """What the run store keeps beside a run: the workspace that owns it and where its text came from."""
    return {"ws": session_of(ss).ws, "corpus": source[:200], "title": source[:200]}


def start_runs(ss: State, specs: list[RunSpec]) -> list[Run]:
    """Workers for these runs (all or none); raises Busy or the ValueError a text or setting deserves."""
    sess = session_of(ss)
    return sess.start(specs, meta=run_meta(ss, specs[0].source) if specs else None)


def init_state(ss: State) -> None:
    """Fill in whatever is missing: the session (with the widget defaults) and a first run.

    Raises Busy when every training worker of the server is taken (the page shows the queue).
    """
    sess = session_of(ss)
    if sess.runs:
        return
    name = ss["corpus"] if ss["corpus"] in CORPORA else DEFAULT_CORPUS
    text = read_corpus(name)
    try:
        cfg, fitted = fit_streams(ss, text, ss["corpus"])  # a short text gets fewer streams
        cfg.validate()
        runs = start_runs(ss, [RunSpec(ss["corpus"], text, asdict(cfg))])
        fitted()
    except ValueError as err:   # settings from an odd session: fall back to the defaults
        if type(err).__name__ == "Busy":
            raise
        runs = start_runs(ss, [RunSpec(ss["corpus"], text, asdict(TrainConfig()))])
        sync_widgets(ss, TrainConfig())
    install(ss, runs)


def install(ss: State, new_runs: list[Run], active: int = 0) -> None:
    """Make `new_runs` the session's runs and point the text-dependent widgets at the new text."""
    session_of(ss).install(new_runs, active)
    _after_install(ss)


def _after_install(ss: State) -> None:
    """Point the text-dependent widgets at the active run's text."""
    text = session_of(ss).active_run.text
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
        return sess.parked[name].runs[0].text
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
    """A fresh run on `text` with the sidebar's settings, in a worker. The current runs are parked under
    their text (unless it is the same text), and this becomes `source`'s one run."""
    cfg, fitted = fit_streams(ss, text, source)  # a short text gets fewer streams
    run, = start_runs(ss, [RunSpec(source, text, asdict(cfg), origin=origin)])  # raises before anything changes
    fitted()
    _leave_text(ss, source)
    install(ss, [run])
    return run


def _leave_text(ss: State, new_source: str) -> None:
    """Before the session's runs are replaced by runs on `new_source`: park them (another text), and
    forget an older parked group of `new_source` (one run per text)."""
    sess = session_of(ss)
    sess.park(unless=new_source)
    sess.forget_parked(new_source)


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

    `run_id` keeps a known id (a run reopened from the run store or the URL: its worker loads it from
    there); default: a new one. The trainer was loaded in the page only to check it and read its text.
    The runs of another text are parked, as when the text selector changes.
    """
    if run_id is not None and _bring_back(ss, run_id):
        return
    if run_id is not None:
        spec = RunSpec(label, trainer.text, run_id=run_id, stored=True, origin=origin)
    elif trainer.iteration == 0:
        spec = RunSpec(label, trainer.text, asdict(trainer.config), origin=origin)
    else:
        spec = RunSpec(label, trainer.text, checkpoint=to_bytes(trainer, compress=False), origin=origin)
    run, = start_runs(ss, [spec])
    _leave_text(ss, label)
    install(ss, [run])
    if label not in CORPORA:  # a built-in name is already in the selector (a run reopened from the store)
        session_of(ss).custom_text = (label, trainer.text)
    ss["corpus"] = label
    sync_widgets(ss, trainer.config)


def _bring_back(ss: State, run_id: str) -> bool:
    """A saved run that this session still has (shown, or parked under its text) is made the active run
    as it is in its worker: a second worker on the same run would train a copy. False if it has not."""
    sess = session_of(ss)
    for key, group in [(None, sess.runs)] + [(k, p.runs) for k, p in sess.parked.items()]:
        ids = [r.run_id for r in group]
        if run_id not in ids:
            continue
        if key is not None:
            sess.unpark(key)
            _after_install(ss)
        sess.select(ids.index(run_id))
        ss["corpus"] = sess.active_run.source
        sync_widgets(ss, sess.trainer.config)
        return True
    return False


def add_run(ss: State, config: TrainConfig) -> Run:
    """Compare mode: another run on the active run's text, trained in lock step with the others.

    The new run starts at iteration 0 whatever the others are at (the compare panel then catches it
    up: Session.catch_up); the active run stays active.
    """
    sess = session_of(ss)
    if len(sess.runs) >= MAX_RUNS:
        raise ValueError(f"At most {MAX_RUNS} runs can train side by side; remove one first.")
    base = sess.active_run
    run, = start_runs(ss, [RunSpec(base.source, base.text, asdict(config))])
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
        tr.apply_live(**{k: v for k, v in changes.items() if k in LIVE_FIELDS})
        if tr.iteration > 0 and not sess.playing:  # a reload keeps the new settings (Play saves on its own)
            sess.group.call(sess.active, "autosave")
    except ValueError as err:
        sync_widgets(ss, tr.config)
        sess.notify("settings", "error", str(err))


def reset(ss: State) -> None:
    """Start the active run again from scratch with the sidebar's settings (pending ones included).

    With several runs (compare mode) the others restart too, with their own settings, so they stay
    in lock step.
    """
    sess = session_of(ss)
    specs = [RunSpec(r.source, r.text, asdict(r.trainer.config)) for r in sess.runs]
    try:
        cfg, fitted = fit_streams(ss, sess.active_run.text, sess.active_run.source)  # a short text: fewer streams
        cfg.validate()
        specs[sess.active] = RunSpec(sess.active_run.source, sess.active_run.text, asdict(cfg))
        new_runs = start_runs(ss, specs)
    except ValueError as err:
        sess.notify("controls", "error", f"Reset failed, the run is unchanged: {err}")
        return
    fitted()
    install(ss, new_runs, sess.active)


def set_playing(ss: State, playing: bool) -> None:
    """Play/Pause sets the state its label promised rather than toggling: if the browser delivers one
    click twice (a click racing a Play tick's rerun), Pause still means paused. Pause returns once the
    workers' chunk in flight has landed (about a tenth of a second)."""
    session_of(ss).set_playing(bool(playing))


def sample_with_widgets(ss: State, trainer, seed_char: str) -> str:
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
