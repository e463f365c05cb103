"""Slow, literal reference implementations that check and measure the fast engine (numpy only).

    oracle.NaiveRNN            min-char-rnn per time step with one-hot column vectors (exactness tests)
    naive_cells.NAIVE          the same for the LSTM and GRU cells, in the engine's parameter layout
    streams.NaiveStreams       B streams, each run by the naive model above, gradients averaged
    seed_loop.SeedLoop         min-char-rnn's own training loop, operation for operation (speed baseline)
    texts.make_text            deterministic word-like texts of a given size and alphabet

Nothing here is used by training; tests and bench/ import it.
"""
