"""The visitor's session: one typed object owning the runs and everything derived from them.

`session_of(ss)` is the one place a Session is made: on the first script run of a browser tab it is
stored in `st.session_state` (a plain dict in tests) under SESSION_KEY, together with the widget
defaults. Widget values stay in `ss` under their keys (the browser tests and the URL rely on them);
what the page derives (runs, the active run, Play, notices, caches, saved-run bookkeeping) lives
here and changes through the methods below.

The runs themselves live in training workers (ui/session/workers.py), one per run, taken from the
server's WorkerPool, which the page hands in (`Session.pool`). The session drives them as one Group
(ui/session/player.py): Play trains continuously in the group's thread, Train N runs N with progress,
and the page only reads the group's mirrors. `ss["trainer"]` is an `ActiveTrainer`: a read-only view of
the active run's RunProxy, never a second copy to keep in sync.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, MutableMapping, Sequence

from rnn_core import limits

from .names import run_names
from .parking import MAX_PARKED_TEXTS, Parked, Parking
from .player import Group
from .pool import WorkerPool
from .proxy import ActiveTrainer, RunProxy
from .widgets import WIDGET_DEFAULTS

State = MutableMapping  # st.session_state or a dict
SESSION_KEY = "session"
TRAINER_KEY = "trainer"
PROGRESS_POLL_S = 0.1        # a long click reads the group's progress about this often
VIEW_WAIT_S = 1.0            # during Play, how long the page waits for a just-chosen view's first snapshot
Progress = Callable[[int, int], None]


@dataclass
class RunSpec:
    """A run to start in a worker: from a text and settings, checkpoint bytes, or the run store."""

    source: str                       # the text's label: a corpus name, "notes.txt (uploaded)", ...
    text: str                         # the training text (kept in the page: the sidebar and probe read it)
    config: dict | None = None
    checkpoint: bytes | None = None
    run_id: str | None = None         # with stored=True: the run store's run
    stored: bool = False
    origin: str = ""                  # where the run came from when not trained here: "the checkpoint x.npz"


@dataclass
class Run:
    """One training run: its worker's id, where its text came from, and (once installed) its proxy."""

    run_id: str
    source: str                       # the text's label (runs are parked per label)
    text: str
    trainer: RunProxy | None = None
    origin: str = ""                  # where the run came from when not trained here: "the checkpoint x.npz"

    @property
    def error(self) -> str | None:
        return self.trainer.error if self.trainer is not None else None

    @property
    def needs_reset(self) -> bool:
        return bool(self.trainer is not None and self.trainer.needs_reset)

    @property
    def broken(self) -> str | None:  # why the page cannot draw it: its worker never saves it again
        return self.trainer.broken if self.trainer is not None else None

    @property
    def name(self) -> str:
        c = self.trainer.config
        return f"{c.cell.upper()} H={c.hidden_size}"


@dataclass
class TrainOutcome:
    iters: int = 0          # iterations the first run advanced (all runs move in lock step)
    seconds: float = 0.0    # wall time of the click
    error: str | None = None


@dataclass
class Session(Parking):
    runs: list[Run] = field(default_factory=list)   # trained in lock step; one outside compare mode
    active: int = 0                                  # index of the run the single-run panels show
    play_on: bool = False                            # Play was pressed (and not Pause)
    custom_text: tuple[str, str] | None = None       # (label, text) of the last upload / loaded run
    notices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # area -> [(kind, message)]
    sample: str = ""                                 # the active run's last Generate, WITHOUT its seed char
    sample_seed_char: str = ""
    samples_by_run: dict[str, tuple[str, str]] = field(default_factory=dict)  # run_id -> (seed char, text)
    last_train: dict = field(default_factory=lambda: {"iters": 0, "seconds": 0.0})
    seen_uploads: set[str] = field(default_factory=set)  # file ids already handled (a rerun repeats them)
    file_errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # uploader key -> (file id, why)
    baselines: dict[str, dict] = field(default_factory=dict)   # run_id -> counting entropies (from the worker)
    ws: str | None = None                            # the workspace id (ui/session/runs.py)
    saved_sigs: dict[str, tuple] = field(default_factory=dict)  # run_id -> (iteration) at its last save seen
    save_error: str | None = None
    confirm_delete: str | None = None                # run id waiting for a confirmation
    pool: WorkerPool | None = field(default=None, repr=False, compare=False)   # the server's workers
    group: Group | None = field(default=None, repr=False, compare=False)
    owner: str = field(default_factory=lambda: f"tab-{time.monotonic_ns():x}")  # this tab, in the pool's queue
    parked: dict[str, Parked] = field(default_factory=dict)  # text label -> its runs, set aside (oldest first)
    uploader_gen: dict[str, int] = field(default_factory=dict)  # uploader -> generation (a new one is empty)
    uploader_holds: dict[str, str] = field(default_factory=dict)  # uploader -> what its file made (ui/session/uploads.py)
    # Streamlit's fast reruns can start a new script run while an older one still waits for its Train
    # click; this lock makes two clicks of one tab run one after the other, never pause each other.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    # ---- reading ---------------------------------------------------------------------------
    @property
    def active_run(self) -> Run:
        return self.runs[self.active]

    @property
    def trainer(self) -> RunProxy:
        return self.runs[self.active].trainer

    @property
    def is_compare(self) -> bool:
        return len(self.runs) > 1

    @property
    def train_rate(self) -> float:
        """Iterations per second of the whole group (every run, in lock step), measured by the group's
        wall clock over its last few seconds of training; 0 before it has trained."""
        return self.group.speed() if self.group is not None else 0.0

    @property
    def playing(self) -> bool:
        """Play is on and the group's thread still trains (a divergence or an error ends it)."""
        return self.play_on and self.group is not None and self.group.playing

    @property
    def validation(self) -> dict[str, dict]:
        """run_id -> {"its": [..], "loss": [..]}: the held-out loss each worker measured, for runs that have some."""
        return {r.run_id: r.trainer.validation for r in self.runs if r.trainer.validation["its"]}

    def freeze(self) -> None:
        """Pin one copy of every mirror for this script run (readouts, chart and cards agree); marks the
        runs as looked at, so the pool keeps their workers."""
        if self.group is None:
            return
        for run, mirror in zip(self.runs, self.group.read()):
            run.trainer.freeze(mirror)

    def thaw(self) -> None:
        """Reads go to the live mirrors again (an action that trains reads the runs as they move)."""
        for run in self.runs:
            if run.trainer is not None:
                run.trainer.thaw()

    # ---- notices ---------------------------------------------------------------------------
    def notify(self, area: str, kind: str, message: str) -> None:
        """Queue a message ('error' | 'warning' | 'success' | 'info') for the panel of `area`."""
        self.notices.setdefault(area, []).append((kind, message))

    def take_notices(self, area: str) -> list[tuple[str, str]]:
        return self.notices.pop(area, [])

    # ---- which runs exist ------------------------------------------------------------------
    def start(self, specs: Sequence[RunSpec], meta: dict | None = None) -> list[Run]:
        """A worker for each spec; all or none (a refusal ends the ones already started, then raises).

        Raises Busy when the server is full, or the ValueError a text, setting or file deserves.
        """
        if self.pool is None:
            raise RuntimeError("The session has no worker pool: the page hands it one before use.")
        made: list[Run] = []
        try:
            for s in specs:
                run_id = self.pool.create(text=s.text if s.checkpoint is None else None, config=s.config,
                                          checkpoint=s.checkpoint, meta=meta, owner=self.owner,
                                          run_id=s.run_id, stored=s.stored)
                made.append(Run(run_id, s.source, s.text, origin=s.origin))
        except BaseException:
            for run in made:
                self.pool.discard(run.run_id)
            raise
        return made

    def install(self, new_runs: list[Run], active: int = 0, *, fresh: bool = True) -> None:
        """Make `new_runs` the session's runs (one Group); workers of runs that left are saved and ended.

        `fresh`: samples start afresh (a new set of runs); False keeps them (compare add/remove).
        """
        old = self.group
        if old is not None:
            old.pause(wait=True)
        keep = {r.run_id for r in new_runs}
        group = Group(self.pool, [r.run_id for r in new_runs], owner=self.owner)
        for i, run in enumerate(new_runs):
            if run.trainer is None:
                run.trainer = RunProxy(group, i, run.text)
            else:
                run.trainer.rebind(group, i)
        parked = {r.run_id for p in self.parked.values() for r in p.runs}
        gone = [r.run_id for r in self.runs if r.run_id not in keep and r.run_id not in parked]
        self.runs, self.group = list(new_runs), group
        for run_id in gone:
            self.pool.discard(run_id)
        self.play_on = False
        if fresh:
            self.samples_by_run = {}
            self.sample, self.sample_seed_char = "", ""
        else:
            self.samples_by_run = {k: v for k, v in self.samples_by_run.items() if k in keep}
        self.select(active)

    def add(self, run: Run) -> None:
        self.install(self.runs + [run], self.active, fresh=False)

    def remove(self, index: int) -> None:
        """Drop run `index` (never the last one); the active run stays if it survives, else the first."""
        if len(self.runs) <= 1 or not 0 <= index < len(self.runs):
            return
        a = self.active
        self.install(self.runs[:index] + self.runs[index + 1:], a - 1 if a > index else (0 if a == index else a),
                     fresh=False)

    def keep_only_active(self) -> None:
        self.install([self.active_run], 0, fresh=False)

    def select(self, index: int) -> None:
        """Make run `index` the one the single-run panels show, with its last sample."""
        self.active = max(0, min(int(index), len(self.runs) - 1))
        self.sample_seed_char, self.sample = self.samples_by_run.get(self.active_run.run_id, ("", ""))

    # ---- training (in the workers; the page waits only for a Train click) -----------------
    def set_playing(self, playing: bool) -> None:
        """Play: the group trains until Pause; Pause returns once the chunk in flight has landed."""
        if self.group is None:
            return
        if playing:
            if not self.group.playing:
                self.group.play()
            self.play_on = True
        else:
            self.play_on = False
            self.group.pause(wait=True)

    def play_ended(self) -> bool:
        """Play was on but the group stopped by itself (a divergence, a lost worker, nobody watching)."""
        if self.play_on and not self.playing:
            self.play_on = False
            return True
        return False

    def train(self, n: int, on_progress: Progress | None = None) -> TrainOutcome:
        """Advance every run by n iterations in lock step, in the workers; waits for the end.

        on_progress(done, n) is called as the group reports progress (Streamlit may stop the script
        there: the group trains on to n and the page shows it when it redraws). Play, if on, is
        paused for the click and resumed after it. A divergence stops the click and comes back as
        `error` (it also stays on its run).
        """
        with self.lock:
            return self._train(n, on_progress)

    def _train(self, n: int, on_progress: Progress | None) -> TrainOutcome:
        n = max(0, min(int(n), limits.MAX_ITERS_PER_CLICK))
        out = TrainOutcome()
        if n == 0 or self.group is None:
            return out
        self.thaw()
        was_playing = self.playing
        self.group.pause(wait=True)
        start = lead_iteration(self.runs)
        t0 = time.perf_counter()
        self.group.train(n)
        seen = -1
        while self.group.playing:
            done = self.group.progress[0]
            if on_progress is not None and done != seen:
                seen = done
                on_progress(done, n)
            time.sleep(PROGRESS_POLL_S)
        if on_progress is not None and self.group.progress[0] != seen:
            on_progress(self.group.progress[0], n)   # the last report: the bar ends full
        out.seconds = time.perf_counter() - t0
        out.iters = lead_iteration(self.runs) - start
        errors = [r.error for r in self.runs if r.error]
        out.error = "\n\n".join(errors) if errors else self.group.error
        self.last_train = {"iters": out.iters, "seconds": out.seconds}
        if was_playing and out.error is None:
            self.set_playing(True)
        elif out.error is not None:
            self.play_on = False
        return out

    def behind(self) -> list[tuple[int, int]]:
        """(index, iterations missing) of every healthy run below the lead: a just-added run."""
        lead = lead_iteration(self.runs)
        return [(i, lead - r.trainer.iteration) for i, r in enumerate(self.runs)
                if r.trainer.iteration < lead and not r.error]

    def catch_up(self, on_progress: Progress | None = None) -> int:
        """Train every healthy lagging run (a just-added one) up to the lead, alone, with progress;
        returns the iterations trained. A divergence on the way stays on that run."""
        self.thaw()
        gaps = self.behind()
        if not gaps or self.group is None:
            return 0
        self.group.pause(wait=True)
        self.play_on = False
        total, done = sum(g for _, g in gaps), 0
        for i, gap in gaps:
            run_id = self.runs[i].run_id
            solo = Group(self.pool, [run_id], owner=self.owner)
            solo.train(gap)
            while solo.playing:
                if on_progress is not None:
                    on_progress(done + solo.progress[0], total)
                time.sleep(PROGRESS_POLL_S)
            done += solo.progress[0]
            self.group.refresh(run_id)   # the session's mirror of that run, from its worker
        return done

    # ---- the look-inside view ---------------------------------------------------------------
    def view(self, request: dict | None, wait: float = VIEW_WAIT_S) -> dict | None:
        """The active run's snapshot for `request`, computed in its worker.

        Paused: computed now if the one held is for another request or an older iteration. Playing:
        the group computes it after its next chunks; the page waits at most `wait` for the first one
        of a new request, then draws whatever matches (None: not there yet).
        """
        if request is None or self.group is None:
            return None
        group, i = self.group, self.active
        held = group.view_of(i)
        current = group.view_request() == (request, group.run_ids[i])
        stale = held is None or held.get("request") != request or held.get("iteration") != self.trainer.iteration
        if not current or (not group.playing and stale):
            try:
                group.set_view(request, i)
            except ValueError as err:  # the worker refused the request (e.g. a probe it cannot read)
                return {"error": str(err), "request": request}
        end = time.monotonic() + wait
        while True:
            held = group.view_of(i)
            if held is not None and held.get("request") == request:
                return held
            if time.monotonic() >= end or not group.playing:
                return held if held is not None and held.get("request") == request else None
            time.sleep(0.02)

    # ---- names -----------------------------------------------------------------------------
    def run_names(self) -> list[str]:
        """Short legend names that tell the runs apart ("RNN H=100", "LSTM H=100", "RNN lr=0.1")."""
        return run_names([r.trainer.config for r in self.runs])

    def run_errors(self) -> list[str]:
        """Each diverged run's message; with several runs, named, and saying the others are unaffected."""
        names = self.run_names() if self.is_compare else None
        out = []
        for i, run in enumerate(self.runs):
            if run.error:
                out.append(f"{names[i]}: {run.error} The other runs are unaffected." if names else run.error)
        return out


def lead_iteration(runs: Sequence[Run]) -> int:
    """The iteration the group is at: the furthest run that can still train."""
    live = [r.trainer.iteration for r in runs if not r.needs_reset]
    return max(live) if live else max((r.trainer.iteration for r in runs), default=0)


def session_of(ss: State, pool: WorkerPool | None = None) -> Session:
    """The session in `ss`; made here, and only here, on the first call (with the widget defaults).

    `pool`: the server's WorkerPool, handed in by the page (and by tests); kept by the session.
    """
    sess = ss.get(SESSION_KEY)
    if sess is None:
        for key, value in WIDGET_DEFAULTS.items():
            ss.setdefault(key, value)
        sess = ss[SESSION_KEY] = Session()
        ss[TRAINER_KEY] = ActiveTrainer(sess)
    if pool is not None and sess.pool is not pool:
        sess.pool = pool
    return sess


__all__ = ["Run", "RunSpec", "Parked", "MAX_PARKED_TEXTS", "Parking", "Session", "TrainOutcome", "ActiveTrainer", "session_of", "lead_iteration",
           "SESSION_KEY", "State"]
