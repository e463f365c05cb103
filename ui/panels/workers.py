"""The server's training workers: one WorkerPool per page-server process (and per run folder).

st.cache_resource is the right home for it: a server-wide resource that no visitor changes, made on
first use (which also starts the local Ray instance, or joins $RAY_ADDRESS) and ended with the cache
(the tests clear it after each test; a server exit ends Ray and its actors with it).
"""
from __future__ import annotations

import streamlit as st

from rnn_core.runstore import RunStore

from ..session.pool import WorkerPool


@st.cache_resource(show_spinner="Starting the training workers…", on_release=lambda pool: pool.shutdown())
def _pool_for(store_root: str) -> WorkerPool:
    return WorkerPool(store_root)


def server_pool() -> WorkerPool:
    """The pool whose workers save into the run folder the page reads ($CHAR_RNN_RUNS_DIR)."""
    return _pool_for(str(RunStore().root))


__all__ = ["server_pool"]
