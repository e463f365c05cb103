"""The visitor's session: one typed object owning the runs and everything derived from them.

`session_of(ss)` is the one place a Session is made: on the first script run of a browser tab it is
stored in `st.session_state` (a plain dict in tests) under SESSION_KEY, together with the widget
defaults. Widget values stay in `ss` under their keys (the browser tests and the URL rely on them);
what the page derives (runs, the active run, Play, notices, caches, saved-run bookkeeping) lives
here and changes through the methods below. `ss["trainer"]` is an `ActiveTrainer`: a read-only
view of the active run's Trainer, never a second copy to keep in sync.

Every change to a run's weights goes through `Session.train` or `Session.catch_up` (under the
session's lock); runs are replaced through `install`, `add`, `remove`, `keep_only_active`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, MutableMapping, Sequence

from rnn_core import DivergenceError, Trainer, limits
from rnn_core.runstore import Autosaver, new_run_id

from .names import run_names
from .widgets import WIDGET_DEFAULTS

State = MutableMapping  # st.session_state or a dict
SESSION_KEY = "session"
TRAINER_KEY = "trainer"
MAX_PARKED_TEXTS = 8        # texts whose runs a session keeps set aside in memory (all are saved anyway)
PROGRESS_CHUNK_S = 0.25      # a long click reports progress (and may be interrupted) about this often
Progress = Callable[[int, int], None]


@dataclass
class Run:
    """One training run: a trainer and where its text came from."""

    trainer: Trainer
    source: str                                   # the text's label: a corpus name, "notes.txt (uploaded)", ...
    run_id: str = field(default_factory=new_run_id)  # the `run=` of the page's URL and the run store's file name
    origin: str = ""                              # where the run came from when not trained here: "the checkpoint x.npz"
    error: str | None = None                      # the last divergence message, if any
    needs_reset: bool = False                     # that divergence left a model only Reset can fix
    broken: str | None = None                     # why the page could not draw it: never autosaved again

    @property
    def name(self) -> str:
        c = self.trainer.config
        return f"{c.cell.upper()} H={c.hidden_size}"


@dataclass
class Parked:
    """The runs of a text the visitor switched away from, as they were."""

    runs: list[Run]
    active: int
    samples_by_run: dict[str, tuple[str, str]]


@dataclass
class TrainOutcome:
    iters: int = 0          # iterations the first run advanced (all runs move in lock step)
    seconds: float = 0.0    # wall time inside Trainer.step, all runs
    error: str | None = None


@dataclass
class Session:
    runs: list[Run] = field(default_factory=list)   # trained in lock step; one outside compare mode
    active: int = 0                                  # index of the run the single-run panels show
    playing: bool = False                            # Play is on: the live fragment trains each tick
    custom_text: tuple[str, str] | None = None       # (label, text) of the last upload / loaded run
    notices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # area -> [(kind, message)]
    sample: str = ""                                 # the active run's last Generate, WITHOUT its seed char
    sample_seed_char: str = ""
    samples_by_run: dict[str, tuple[str, str]] = field(default_factory=dict)  # run_id -> (seed char, text)
    train_rate: float = 0.0                          # measured it/s of the whole group (sizes Play ticks)
    last_train: dict = field(default_factory=lambda: {"iters": 0, "seconds": 0.0})
    seen_uploads: set[str] = field(default_factory=set)  # file ids already handled (a rerun repeats them)
    file_errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # uploader key -> (file id, why)
    baselines: dict[str, tuple[int, dict]] = field(default_factory=dict)   # run_id -> (n_train, entropies)
    validation: dict[str, dict] = field(default_factory=dict)  # run_id -> {"its": [..], "loss": [..]}
    ws: str | None = None                            # the workspace id (ui/session/runs.py)
    saved_sigs: dict[str, tuple] = field(default_factory=dict)  # run_id -> signature at its last save
    autosaver: Autosaver | None = None
    save_error: str | None = None
    confirm_delete: str | None = None                # run id waiting for a confirmation
    parked: dict[str, Parked] = field(default_factory=dict)  # text label -> its runs, set aside (oldest first)
    uploader_gen: dict[str, int] = field(default_factory=dict)  # uploader -> generation (a new one is empty)
    uploader_holds: dict[str, str] = field(default_factory=dict)  # uploader -> what its file made (ui/session/uploads.py)
    # Streamlit's fast reruns start the next script run in a new thread while the old one may still be
    # inside Trainer.step; this lock keeps two threads from training the same runs at once.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # ---- reading ---------------------------------------------------------------------------
    @property
    def active_run(self) -> Run:
        return self.runs[self.active]

    @property
    def trainer(self) -> Trainer:
        return self.runs[self.active].trainer

    @property
    def is_compare(self) -> bool:
        return len(self.runs) > 1

    # ---- notices ---------------------------------------------------------------------------
    def notify(self, area: str, kind: str, message: str) -> None:
        """Queue a message ('error' | 'warning' | 'success' | 'info') for the panel of `area`."""
        self.notices.setdefault(area, []).append((kind, message))

    def take_notices(self, area: str) -> list[tuple[str, str]]:
        return self.notices.pop(area, [])

    # ---- which runs exist ------------------------------------------------------------------
    def install(self, new_runs: list[Run], active: int = 0) -> None:
        """Make `new_runs` the session's runs: samples, Play and the measured speed start afresh."""
        self.runs = list(new_runs)
        self.active = active
        self.sample, self.sample_seed_char = "", ""
        self.samples_by_run = {}
        self.playing = False
        self.train_rate = 0.0

    def add(self, run: Run) -> None:
        self.runs = self.runs + [run]
        self.train_rate = 0.0  # the group's speed changed: Play measures it again before sizing ticks

    def remove(self, index: int) -> None:
        """Drop run `index` (never the last one); the active run stays if it survives, else the first."""
        if len(self.runs) <= 1 or not 0 <= index < len(self.runs):
            return
        gone = self.runs[index]
        a = self.active
        self.runs = self.runs[:index] + self.runs[index + 1:]
        self.samples_by_run.pop(gone.run_id, None)
        self.train_rate = 0.0
        self.select(a - 1 if a > index else (0 if a == index else a))

    def keep_only_active(self) -> None:
        self.runs = [self.active_run]
        self.train_rate = 0.0
        self.select(0)

    def select(self, index: int) -> None:
        """Make run `index` the one the single-run panels show, with its last sample."""
        self.active = max(0, min(int(index), len(self.runs) - 1))
        self.sample_seed_char, self.sample = self.samples_by_run.get(self.active_run.run_id, ("", ""))

    # ---- one run per text ------------------------------------------------------------------
    def park(self, unless: str | None = None) -> None:
        """Set the current runs aside under their text's label, to come back with `unpark`.

        One group per text: parking again replaces that text's older group (it was autosaved). Nothing
        happens when `unless` is the current text (its runs are being replaced, not left). At most
        MAX_PARKED_TEXTS texts are kept; the oldest goes first.
        """
        if not self.runs or self.active_run.source == unless:
            return
        key = self.active_run.source
        self.parked.pop(key, None)
        self.parked[key] = Parked(list(self.runs), self.active, dict(self.samples_by_run))
        while len(self.parked) > MAX_PARKED_TEXTS:
            self.parked.pop(next(iter(self.parked)))

    def unpark(self, key: str) -> bool:
        """Bring back the runs parked under `key` (the current ones are parked first); False if none."""
        back = self.parked.pop(key, None)
        if back is None:
            return False
        self.park(unless=key)
        self.install(back.runs, back.active)
        self.samples_by_run = back.samples_by_run
        self.select(back.active)
        return True

    def texts(self) -> list[str]:
        """The labels of the texts this session has runs for: the current one, then the parked ones."""
        here = self.active_run.source if self.runs else None
        return ([here] if here else []) + [k for k in self.parked if k != here]

    # ---- training (the only code that changes weights) -------------------------------------
    def train(self, n: int, on_progress: Progress | None = None) -> TrainOutcome:
        """Advance every run by n iterations in lock step, holding the session's lock.

        With `on_progress`, the work is cut into chunks of about PROGRESS_CHUNK_S and on_progress(done, n)
        is called after each (Streamlit may stop the script there, which leaves every run consistent).
        A DivergenceError pauses Play, stays on that run (`Run.error`) and comes back as `error`; the
        other runs still finish that chunk (see `step_group`), so they stay level.
        """
        with self.lock:
            n = max(0, min(int(n), limits.MAX_ITERS_PER_CLICK))
            chunk = n
            if on_progress is not None:
                rate = self.train_rate
                chunk = max(1, min(n, int(rate * PROGRESS_CHUNK_S) if rate > 0 else 100))
            out = TrainOutcome()
            start = lead_iteration(self.runs)
            done = 0
            while done < n:
                k = min(chunk, n - done)
                t0 = time.perf_counter()
                failed = step_group(self.runs, k, self.run_names)
                dt = time.perf_counter() - t0
                out.seconds += dt
                if failed:
                    out.error = "\n\n".join(run.error for run in failed)
                    self.playing = False
                    break
                done += k
                if dt > 0:
                    self.train_rate = k / dt
                if on_progress is not None:
                    on_progress(done, n)
            out.iters = lead_iteration(self.runs) - start
            self.last_train = {"iters": out.iters, "seconds": out.seconds}
            return out

    def behind(self) -> list[tuple[int, int]]:
        """(index, iterations missing) of every healthy run below the lead: a just-added run."""
        lead = lead_iteration(self.runs)
        return [(i, lead - r.trainer.iteration) for i, r in enumerate(self.runs)
                if r.trainer.iteration < lead and not r.error]

    def catch_up(self, on_progress: Progress | None = None) -> int:
        """Train every healthy lagging run up to the lead, in chunks; returns the iterations trained.

        A divergence on the way is kept on that run and pauses Play.
        """
        with self.lock:
            gaps = self.behind()
            total, done = sum(g for _, g in gaps), 0
            for i, gap in gaps:
                run = self.runs[i]
                chunk = max(1, int(self.train_rate * PROGRESS_CHUNK_S) if self.train_rate > 0 else 200)
                left = gap
                while left > 0:
                    k = min(chunk, left)
                    t0 = time.perf_counter()
                    try:
                        run.trainer.step(k)
                    except DivergenceError as err:
                        run.error, run.needs_reset = str(err), bool(getattr(err, "needs_reset", False))
                        self.playing = False
                        break
                    dt = time.perf_counter() - t0
                    chunk = max(1, int(k / dt * PROGRESS_CHUNK_S)) if dt > 0 else chunk
                    left -= k
                    done += k
                    if on_progress is not None:
                        on_progress(done, total)
            return done

    # ---- names -----------------------------------------------------------------------------
    def run_names(self) -> list[str]:
        """Short legend names that tell the runs apart ("RNN H=100", "LSTM H=100", "RNN lr=0.1")."""
        return run_names([r.trainer.config for r in self.runs])


def lead_iteration(runs: Sequence[Run]) -> int:
    """The iteration the group is at: the furthest run that can still train."""
    live = [r.trainer.iteration for r in runs if not r.needs_reset]
    return max(live) if live else max((r.trainer.iteration for r in runs), default=0)


def step_group(group: list[Run], k: int, names: Callable[[], list[str]] | None = None) -> list[Run]:
    """One lock-step chunk: every run that can train reaches the same iteration, lead + k.

    Runs go one after the other; a run that diverges keeps its error and the others still take
    their step, so they stay level. A run that lags (it diverged earlier, or was added late) catches
    up by at most k extra iterations per chunk. A run whose divergence needs a Reset is left where it
    stopped while others can train; alone, it is stepped again so the click reports why nothing
    moves. Returns the runs that diverged; with several runs, their messages name them.
    """
    live = [r for r in group if not r.needs_reset] or list(group)
    goal = max(r.trainer.iteration for r in live) + k
    failed = []
    for run in live:
        need = min(goal - run.trainer.iteration, 2 * k)
        if need <= 0:
            continue
        try:
            run.trainer.step(need)
            run.error, run.needs_reset = None, False
        except DivergenceError as err:
            run.needs_reset = bool(getattr(err, "needs_reset", False))
            run.error = str(err)
            failed.append(run)
    if failed and len(group) > 1:
        label = dict(zip(map(id, group), names() if names else run_names([r.trainer.config for r in group])))
        for run in failed:
            run.error = f"{label[id(run)]}: {run.error} The other runs are unaffected."
    return failed


class ActiveTrainer:
    """`ss["trainer"]`: reads go to the active run's Trainer at the time of the read.

    Kept for tools and tests that read `iteration`, `config`, `vocab`, `smooth_loss` through the
    session state; it holds the session, not a trainer, so it can never go stale.
    """

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        object.__setattr__(self, "_session", session)

    def __getattr__(self, name: str):
        return getattr(self._session.trainer, name)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("ss['trainer'] is read-only: change the run through the session's methods.")

    def __repr__(self) -> str:
        return f"ActiveTrainer({self._session.trainer!r})"


def session_of(ss: State) -> Session:
    """The session in `ss`; made here, and only here, on the first call (with the widget defaults)."""
    sess = ss.get(SESSION_KEY)
    if sess is None:
        for key, value in WIDGET_DEFAULTS.items():
            ss.setdefault(key, value)
        sess = ss[SESSION_KEY] = Session()
        ss[TRAINER_KEY] = ActiveTrainer(sess)
    return sess


__all__ = ["Run", "Parked", "Session", "TrainOutcome", "ActiveTrainer", "session_of", "lead_iteration", "step_group",
           "SESSION_KEY", "State"]
