"""The readouts the page shows of a run, from its settings and counters.

Shared by the Trainer and by whatever stands for one elsewhere (the page's proxy of a run that trains in
a worker), so the two can never disagree on what "characters per second" or "epochs" mean. A class that
mixes this in provides `config`, `iteration`, `smooth_loss`, `iters_per_second` and `train_chars` (the
number of characters it trains on).
"""
from __future__ import annotations

import math


class Readouts:
    @property
    def bits_per_char(self) -> float:
        """The smooth loss (nats per window of seq_length characters) in bits per character."""
        return self.smooth_loss / self.config.seq_length / math.log(2)

    @property
    def chars_per_iteration(self) -> int:
        """Characters one iteration reads: a window of T from each of the B streams."""
        return self.config.seq_length * self.config.batch_size

    @property
    def chars_per_second(self) -> float:
        return self.iters_per_second * self.chars_per_iteration

    @property
    def chars_seen(self) -> int:
        return self.iteration * self.chars_per_iteration

    @property
    def epochs(self) -> float:
        """Passes over the training text so far."""
        n = self.train_chars
        return self.chars_seen / n if n else 0.0


__all__ = ["Readouts"]
