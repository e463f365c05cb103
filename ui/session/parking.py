"""One set of runs per text: the runs of a text the visitor leaves are parked, and come back with it.

A parked run keeps its run id, iteration, weights, history and samples. Its worker is saved to the run
store and released when that save holds its current iteration (or when it is still at iteration 0, which
its settings rebuild: the pool keeps them); a run whose save was refused keeps its live worker, so
parking never loses iterations. Coming back, the session's new Group checks the runs out of the pool,
which restores released workers from the run store under the same ids (ui/session/pool.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session import Run

MAX_PARKED_TEXTS = 8        # texts whose runs a session keeps set aside (all are in the run store anyway)


@dataclass
class Parked:
    """The runs of a text the visitor switched away from, as they were."""

    runs: list[Run]
    active: int
    samples_by_run: dict[str, tuple[str, str]]


class Parking:
    """Session's methods for parking (a mixin: they use the session's runs, group, pool and install)."""

    def park(self, unless: str | None = None) -> None:
        """Set the current runs aside under their text's label, to come back with `unpark`.

        One group per text: parking again replaces that text's older group (saved, its workers ended).
        Nothing happens when `unless` is the current text (its runs are being replaced, not left). At most
        MAX_PARKED_TEXTS texts are kept; the oldest goes first (saved: it stays under "Your saved runs").
        A parked run's worker is saved and released to the run store when the save holds its current
        iteration (or it is still at iteration 0, which its settings rebuild); otherwise it stays live, so
        parking never loses iterations. `unpark` brings the workers back through the pool, same run ids.
        """
        if not self.runs or self.active_run.source == unless:
            return
        key = self.active_run.source
        if self.group is not None:
            self.set_playing(False)
            self.group.save()
        older = self.parked.pop(key, None)
        here = {r.run_id for r in self.runs}
        if older is not None:
            self._let_go([r for r in older.runs if r.run_id not in here])
        self.parked[key] = Parked(list(self.runs), self.active, dict(self.samples_by_run))
        if self.group is not None and self.pool is not None:
            for run, mirror in zip(self.runs, self.group.read()):
                if mirror.iteration == 0 or mirror.saved_iteration == mirror.iteration:
                    self.pool.release(run.run_id)
        while len(self.parked) > MAX_PARKED_TEXTS:
            self._let_go(self.parked.pop(next(iter(self.parked))).runs)

    def forget_parked(self, key: str) -> None:
        """Drop the runs parked under `key` (a new run replaces them: one run per text); they stay saved."""
        older = self.parked.pop(key, None)
        if older is not None:
            here = {r.run_id for r in self.runs}
            self._let_go([r for r in older.runs if r.run_id not in here])

    def _let_go(self, runs: list[Run]) -> None:
        """Runs no session keeps any more: saved and their workers ended (their files stay in the store)."""
        if self.pool is not None:
            for run in runs:
                self.pool.discard(run.run_id)

    def unpark(self, key: str) -> bool:
        """Bring back the runs parked under `key` (the current ones are parked first); False if none.

        Raises Busy (nothing changes, the runs stay parked) when no worker is free to take them back.
        """
        back = self.parked.get(key)
        if back is None:
            return False
        self.park(unless=key)
        self.parked.pop(key, None)
        try:
            self.install(back.runs, back.active)
        except BaseException:
            self.parked[key] = back
            raise
        self.samples_by_run = back.samples_by_run
        self.select(back.active)
        return True

    def texts(self) -> list[str]:
        """The labels of the texts this session has runs for: the current one, then the parked ones."""
        here = self.active_run.source if self.runs else None
        return ([here] if here else []) + [k for k in self.parked if k != here]


__all__ = ["MAX_PARKED_TEXTS", "Parked", "Parking"]
