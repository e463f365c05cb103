"""The training loop of min-char-rnn, one iteration at a time, with its bookkeeping.

One iteration (the seed notebook's loop body), for B = batch_size streams:
  1. if it is the first iteration or the window would run past a stream's part of the text
     (p + T + 1 >= L, L = N // B): reset every stream's state to zeros and p to 0;
  2. stream b reads inputs = data[bL+p : bL+p+T], targets = data[bL+p+1 : bL+p+T+1];
  3. loss and gradients by BPTT from the carried states (B, S), all streams at once;
     the loss is averaged over streams, the gradient is that of the averaged loss;
  4. clip every gradient entry to [-clip, clip]; one optimizer update;
  5. smooth_loss = 0.999 smooth_loss + 0.001 loss; p += T; carry the states.
With B = 1 (the default) this is min-char-rnn exactly: L = N and one stream from offset 0.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from . import checkpoint_io, limits
from .cells import CELLS
from .history import LossHistory
from .model import Model, softmax
from .optim import OPTIMIZERS, DivergenceError, make_optimizer
from .readouts import Readouts
from .sampling import check_sample_args, check_state, sample_ids
from .text import TextError, Vocab

LIVE_FIELDS = ("learning_rate", "optimizer", "clip")  # may change mid-run; the rest needs a reset
MAX_VAL_FRACTION = 0.5  # at most half the text held out; more leaves too little to learn from


@dataclass(frozen=True)
class TrainConfig:
    cell: str = "rnn"             # "rnn" (min-char-rnn's tanh cell); see rnn_core.cells
    hidden_size: int = 100        # H, hidden units
    seq_length: int = 25          # T, characters per truncated-BPTT window
    learning_rate: float = 0.1    # Adagrad's 0.1 as in min-char-rnn
    optimizer: str = "adagrad"    # adagrad | sgd | momentum | adam
    clip: float | None = 5.0      # clip each gradient entry to [-clip, clip]; 0 or None: no clipping
    seed: int = 0                 # initial weights come from np.random.default_rng(seed)
    sample_every: int = 1000      # record a short sample every this many iterations (0: never)
    val_fraction: float = 0.0     # hold out this final share of the text for a validation loss (0: train on all)
    batch_size: int = 1           # B streams read the text from B evenly spaced offsets; 1 is min-char-rnn

    def validate(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"Unknown cell {self.cell!r}; choose one of {', '.join(sorted(CELLS))}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; choose one of {', '.join(sorted(OPTIMIZERS))}.")
        for name, cap in (("hidden_size", limits.MAX_HIDDEN), ("seq_length", limits.MAX_SEQ_LENGTH),
                          ("batch_size", limits.MAX_BATCH)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= cap:
                raise ValueError(f"{name} must be a whole number from 1 to {cap}, not {v!r}.")
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"The learning rate must be a positive number, not {lr!r}.")
        if self.clip is not None and (isinstance(self.clip, bool) or not isinstance(self.clip, (int, float)) or not math.isfinite(self.clip) or self.clip < 0):
            raise ValueError(f"clip must be a positive number, or 0/None to turn clipping off, not {self.clip!r}.")
        if self.batch_size * self.seq_length > limits.MAX_BATCH_CHARS:
            raise ValueError(
                f"batch_size x seq_length is {self.batch_size * self.seq_length:,} characters per iteration; the limit "
                f"is {limits.MAX_BATCH_CHARS:,}. Use fewer streams (at most {limits.MAX_BATCH_CHARS // self.seq_length} "
                f"at seq_length {self.seq_length}) or a shorter sequence length.")
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"The seed must be a whole number >= 0, not {self.seed!r}.")
        if not isinstance(self.sample_every, (int, np.integer)) or self.sample_every < 0:
            raise ValueError("sample_every must be a whole number >= 0.")
        f = self.val_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0.0 <= f <= MAX_VAL_FRACTION:
            raise ValueError(f"val_fraction must be a number from 0 to {MAX_VAL_FRACTION}, not {f!r}.")


@dataclass
class Probe:
    """A forward pass over a probe text from the zero state."""

    text: str
    ids: np.ndarray      # (T,)
    hidden: np.ndarray   # (T, H) hidden state after reading each character
    probs: np.ndarray    # (T, V) distribution of the character that follows each position
    loss: np.ndarray     # (T-1,) -log p(actual next char), nats
    extras: dict         # per-cell extras, e.g. LSTM cell state and gates, each (T, H)


class Trainer(Readouts):
    """A model, its optimizer, the data pointer and the run's history."""

    SAMPLE_LENGTH = 200
    EARLY_SAMPLES = (100, 300, 500)  # as in Karpathy's blog, before the regular cadence
    MAX_SAMPLES = limits.MAX_RECORDED_SAMPLES

    def __init__(self, text: str, config: TrainConfig | None = None, *, history_cap: int = limits.MAX_HISTORY_ROWS):
        config = config or TrainConfig()
        config.validate()
        if not isinstance(text, str):
            raise TypeError("Trainer needs the text as str; decode bytes with load_text first.")
        if len(text) > limits.MAX_TEXT_CHARS:
            raise TextError(f"The text has {len(text):,} characters; the limit is {limits.MAX_TEXT_CHARS:,}.")
        n_val = int(len(text) * config.val_fraction)       # the held-out tail, never trained on
        if config.val_fraction and n_val < 2:
            raise TextError(
                f"Holding out {config.val_fraction:.0%} of a {len(text)}-character text leaves {n_val} characters "
                "to validate on; a validation loss needs at least 2. Use a longer text or a larger fraction."
            )
        n_train = len(text) - n_val
        if n_train < config.seq_length + 1:
            held = f" after holding out {n_val} for validation" if n_val else ""
            raise TextError(
                f"The text has {n_train} characters{held}, but one training window needs seq_length + 1 = "
                f"{config.seq_length + 1}. Use a longer text or a shorter sequence length."
            )
        B = config.batch_size
        if B > 1 and n_train // B < config.seq_length + 1:
            held = f" after holding out {n_val} for validation" if n_val else ""
            raise TextError(
                f"The text has {n_train} characters{held}: too few for {B} streams, each of which needs at least "
                f"seq_length + 1 = {config.seq_length + 1}. Use a smaller batch size (at most "
                f"{max(1, n_train // (config.seq_length + 1))} here), a shorter sequence length or a longer text."
            )
        vocab = Vocab.from_text(text)  # from the whole text, so the held-out part encodes too
        if vocab.size < 2:
            raise TextError("The text uses a single distinct character; there is nothing to predict. Use a text with at least two different characters.")
        self.text = text                                   # the whole text, held-out part included
        self.vocab = vocab
        ids = vocab.encode(text)
        self.data = ids[:n_train]                          # (N,) ids the trainer learns from
        self.val_data = ids[n_train:]                      # (M,) held-out ids; empty when val_fraction = 0
        self.config = config
        self.model = Model(config.cell, vocab.size, config.hidden_size, np.random.default_rng(config.seed))
        self.optimizer = make_optimizer(config.optimizer, self.model.flat.size)
        self.iteration = 0
        self.pointer = 0
        self.state = self.model.zero_state(B)              # (B, S) carried state, one row per stream
        self.smooth_loss = -math.log(1.0 / vocab.size) * config.seq_length
        self.history = LossHistory(history_cap)
        self.samples: list[tuple[int, str]] = []           # (iteration, text) recorded while training
        self.last_step_seconds = 0.0
        self.last_step_iters = 0

    # ---- settings -------------------------------------------------------------------------
    def apply_live(self, **changes) -> None:
        """Change learning rate, optimizer or clip without a reset (a new optimizer starts fresh)."""
        bad = set(changes) - set(LIVE_FIELDS)
        if bad:
            raise ValueError(f"{', '.join(sorted(bad))} cannot change mid-run; start a new run (Reset) instead.")
        new = replace(self.config, **changes)
        new.validate()
        if new.optimizer != self.config.optimizer:
            self.optimizer = make_optimizer(new.optimizer, self.model.flat.size)
        self.config = new

    @property
    def learning_rate(self) -> float:
        return self.config.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.apply_live(learning_rate=value)

    # ---- training ------------------------------------------------------------------------
    # Non-finite numbers are caught explicitly below; numpy's warnings (log of 0) would only be noise.
    @np.errstate(divide="ignore", over="ignore", invalid="ignore")
    def step(self, n: int = 1) -> np.ndarray:
        """Run n iterations; returns their raw losses (nats per window).

        Raises DivergenceError at the first non-finite loss or update; the iterations before
        it are kept (history and all), the bad one leaves no trace.
        """
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"The number of iterations must be a whole number >= 0, not {n!r}.")
        cfg = self.config
        T, B, L = cfg.seq_length, cfg.batch_size, self.stream_length
        model, data, grad, flat = self.model, self.data.astype(np.intp, copy=False), self.model.flat_grad, self.model.flat
        train_window, update, lr = model.train_window, self.optimizer.update, cfg.learning_rate
        clip = cfg.clip or 0.0
        # (T+1, B) positions of every stream's window at p = 0; one add and one gather per iteration.
        window = np.arange(T + 1)[:, None] + np.arange(B) * L if B > 1 else None
        losses = np.empty(n)
        smooths = np.empty(n)
        # The loop keeps its counters in locals and writes them back in `finally` (and before a sample is
        # recorded, which reads them): at ~200 us per iteration, attribute writes and a method call for the
        # sample schedule are a measurable share. Locals change only after an iteration succeeded, so a
        # diverging one leaves the same trace as before: nothing, except a wrap's reset of p and the state.
        it0, p, state, smooth = self.iteration, self.pointer, self.state, self.smooth_loss
        next_sample = self._next_sample_after(it0)
        done = 0
        t0 = time.perf_counter()
        try:
            while done < n:
                if p + T + 1 >= L or it0 + done == 0:
                    p = 0
                    state = model.zero_state(B)
                w = data[p : p + T + 1, None] if window is None else data[window + p]   # (T+1, B)
                loss, new_state = train_window(w[:-1], w[1:].reshape(-1), state)
                if not math.isfinite(loss):
                    raise DivergenceError(f"the loss became {loss}.", needs_reset=True)
                if clip:
                    grad.clip(-clip, clip, out=grad)         # the method skips a layer of np.clip wrappers
                update(flat, grad, lr)
                state = new_state
                smooth = 0.999 * smooth + 0.001 * loss
                p += T
                losses[done] = loss
                smooths[done] = smooth
                done += 1
                if it0 + done == next_sample:
                    self.iteration, self.pointer, self.state, self.smooth_loss = it0 + done, p, state, smooth
                    self._record_sample()
                    next_sample = self._next_sample_after(it0 + done)
        except DivergenceError as err:
            self.iteration = it0 + done  # the message counts from the last good iteration
            if err.needs_reset:  # the forward pass alone fails, whatever the learning rate
                hint = ("The model is kept as it was before that iteration, but it already gives a character of "
                        "this window probability 0, so it cannot train on from here: press Reset and train again "
                        "with a lower learning rate or gradient clipping on.")
            else:
                hint = ("The model is kept as it was before that iteration. Lower the learning rate or turn "
                        "gradient clipping on.")
            raise DivergenceError(f"Training diverged at iteration {self.iteration + 1}: {err} {hint}",
                                  needs_reset=err.needs_reset) from None
        finally:
            self.iteration, self.pointer, self.state, self.smooth_loss = it0 + done, p, state, smooth
            its = np.arange(it0 + 1, it0 + done + 1)
            self.history.extend(its, losses[:done], smooths[:done])
            self.last_step_seconds = time.perf_counter() - t0
            self.last_step_iters = done
        return losses

    def _next_sample_after(self, iteration: int) -> float:
        """The first iteration after `iteration` that records a sample (inf when sampling is off)."""
        every = self.config.sample_every
        if not every:
            return math.inf
        due = [e for e in self.EARLY_SAMPLES if e > iteration] + [(iteration // every + 1) * every]
        return min(due)

    def _record_sample(self) -> None:
        seed_id = self.data[self.pointer % len(self.data)]
        rng = np.random.default_rng([self.config.seed, self.iteration])
        ids = sample_ids(self.model, np.array([seed_id]), self.SAMPLE_LENGTH, rng=rng)
        self.samples.append((self.iteration, self.vocab.decode(np.concatenate([[seed_id], ids]))))
        if len(self.samples) > self.MAX_SAMPLES:
            del self.samples[1::2]  # thin evenly; the first stays

    # ---- readouts (more in Readouts) --------------------------------------------------------
    @property
    def train_chars(self) -> int:
        return len(self.data)

    @property
    def iters_per_second(self) -> float:
        return self.last_step_iters / self.last_step_seconds if self.last_step_seconds > 0 else 0.0

    @property
    def stream_length(self) -> int:
        """L: characters of the training text each stream reads before it wraps (N // batch_size)."""
        return len(self.data) // self.config.batch_size

    # ---- using the model -----------------------------------------------------------------
    def sample(self, seed_char: str, length: int, temperature: float = 1.0, top_k: int | None = None,
               greedy: bool = False, seed: int | None = None, state: np.ndarray | None = None) -> str:
        """`length` new characters after `seed_char` (one char, or a prime string fed in first)."""
        check_sample_args(self.vocab, seed_char, length, temperature, top_k)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"The sample seed must be a whole number >= 0 (or empty for a random one), not {seed!r}.")
        if state is not None:
            state = check_state(state, self.model.state_size)
        ids = sample_ids(self.model, self.vocab.encode(seed_char), int(length), temperature=float(temperature),
                         top_k=top_k, greedy=greedy, rng=np.random.default_rng(seed), state=state)
        return self.vocab.decode(ids)

    def probe(self, text: str) -> Probe:
        """Hidden states and next-char distributions for `text`, read from the zero state."""
        if not isinstance(text, str) or not text:
            raise ValueError("The probe text is empty; type a few characters from the training text.")
        if len(text) > limits.MAX_TEXT_CHARS:
            raise ValueError(f"The probe text has {len(text):,} characters; the limit is {limits.MAX_TEXT_CHARS:,}.")
        ids = self.vocab.encode(text)
        fw = self.model.forward(ids)
        rows = np.arange(len(ids) - 1)
        with np.errstate(divide="ignore"):  # a probability of 0 is a loss of inf, shown as such
            loss = -np.log(fw.probs[rows, ids[1:]])
        extras = getattr(self.model.cell, "probe_extras", lambda cache: {})(fw.cache)
        return Probe(text, ids, fw.hidden, fw.probs, loss, extras)

    # ---- checkpoints ---------------------------------------------------------------------
    def save(self, path) -> None:
        checkpoint_io.save_trainer(self, path)

    @classmethod
    def load(cls, path) -> "Trainer":
        return checkpoint_io.load(path, cls, TrainConfig)


__all__ = ["TrainConfig", "Trainer", "Probe", "DivergenceError", "softmax", "LIVE_FIELDS"]
