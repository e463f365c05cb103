"""A run in a worker, seen through a Trainer-shaped window (for st.session_state["trainer"], the panels, tools).

Readouts (iteration, config, vocab, smooth_loss, history, samples) come from the group's driver-side
mirror, with no worker call; sample(), probe(), apply_live() and checkpoint() are sent to the worker.
Training goes through the Group (Play, Pause, Train N), never through here.

While the page draws, `freeze()` pins a copy of the mirror, so the readouts, the chart and the cards of
one script run all show the same iteration even though the group's thread keeps training.
"""
from __future__ import annotations

from rnn_core import TrainConfig, Trainer, Vocab
from rnn_core.readouts import Readouts

from .player import Group


class RunProxy(Readouts):
    SAMPLE_LENGTH = Trainer.SAMPLE_LENGTH

    def __init__(self, group: Group, index: int = 0, text: str = ""):
        self.group, self.index, self.text = group, index, text
        self.run_id = group.run_ids[index]
        self.frozen = None
        self._vocab: tuple[str, Vocab] | None = None

    def rebind(self, group: Group, index: int) -> None:
        """The run joined another group (compare add/remove/leave): same run, same proxy, new driver."""
        self.group, self.index, self.frozen = group, index, None

    @property
    def _mirror(self):
        return self.frozen if self.frozen is not None else self.group.mirrors[self.run_id]

    @property
    def _live(self):
        """The group's own mirror: what is saved is news the moment it lands, frozen or not."""
        return self.group.mirrors[self.run_id]

    def freeze(self, mirror=None) -> None:
        """Pin a copy of the mirror (or `mirror`) for reads; `thaw()` goes back to the live one."""
        self.frozen = mirror if mirror is not None else self.group.mirrors[self.run_id].copy()

    def thaw(self) -> None:
        self.frozen = None

    # ---- readouts (no worker call) --------------------------------------------------------
    @property
    def iteration(self) -> int:
        return self._mirror.iteration

    @property
    def smooth_loss(self) -> float:
        return self._mirror.smooth_loss

    @property
    def config(self) -> TrainConfig:
        return self._mirror.config

    @property
    def vocab(self) -> Vocab:
        chars = self._mirror.chars
        if self._vocab is None or self._vocab[0] != chars:
            self._vocab = (chars, Vocab.from_chars(chars))
        return self._vocab[1]

    @property
    def history(self):
        return self._mirror.history

    @property
    def samples(self) -> list:
        return self._mirror.samples

    @property
    def validation(self) -> dict:
        return self._mirror.validation

    @property
    def error(self) -> str | None:
        return self._mirror.error

    @property
    def needs_reset(self) -> bool:
        return self._mirror.needs_reset

    @property
    def broken(self) -> str | None:
        return self._live.broken

    @property
    def saved_iteration(self) -> int | None:
        return self._live.saved_iteration

    @property
    def save_error(self) -> str | None:
        return self._live.save_error

    @property
    def where(self) -> dict:
        return self._mirror.where

    @property
    def view(self) -> dict | None:
        return self.group.view_of(self.index)

    @property
    def iters_per_second(self) -> float:
        """The group's wall-clock rate over the last few seconds (every run of a group trains as fast)."""
        return self.group.speed()

    @property
    def train_chars(self) -> int:
        return self._mirror.n_train

    # ---- calls to the worker ------------------------------------------------------------
    def sample(self, *args, **kwargs) -> str:
        return self.group.call(self.index, "sample", *args, **kwargs)

    def probe(self, text: str):
        return self.group.call(self.index, "probe", text)

    def checkpoint(self, compress: bool = True) -> bytes:
        return self.group.call(self.index, "checkpoint", compress)

    def apply_live(self, **changes) -> None:
        """Learning rate, optimizer or clip, changed in the worker (between chunks) and then in the mirror."""
        config = self.group.apply_live(self.index, **changes)
        if self.frozen is not None:
            self.frozen.config = TrainConfig(**config)

    def __repr__(self) -> str:
        return f"RunProxy({self.run_id}, iteration={self.iteration})"


class ActiveTrainer:
    """`ss["trainer"]`: reads go to the active run's RunProxy at the time of the read.

    Kept for tools and tests that read `iteration`, `config`, `vocab`, `smooth_loss`, `history` and call
    `sample(...)`, `probe(...)` through the session state; it holds the session, not a run, so it can
    never go stale.
    """

    __slots__ = ("_session",)

    def __init__(self, session) -> None:
        object.__setattr__(self, "_session", session)

    def __getattr__(self, name: str):
        return getattr(self._session.trainer, name)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("ss['trainer'] is read-only: change the run through the session's methods.")

    def __repr__(self) -> str:
        return f"ActiveTrainer({self._session.trainer!r})"


__all__ = ["ActiveTrainer", "RunProxy"]
