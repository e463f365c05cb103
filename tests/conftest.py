"""Suite-wide setup: one BLAS thread everywhere, so timings and float results repeat.

The variables are set before anything imports numpy; child processes (the Streamlit server of the
browser tests) inherit them. threadpoolctl then also pins a BLAS that was loaded earlier.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    import numpy  # noqa: F401  (load BLAS now so the limit below reaches it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(autouse=True)
def _private_run_store(tmp_path_factory, monkeypatch):
    """The app autosaves runs: every test gets its own empty run folder, never the user's cache."""
    monkeypatch.setenv("CHAR_RNN_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
