"""Suite-wide setup: one BLAS thread in the test process, one Ray for the whole session, a private run folder.

The BLAS variables are set before anything imports numpy, so float results of the engine tests repeat.
Child processes do NOT inherit them: the browser tests' Streamlit server and the Ray workers must pin
BLAS themselves, as they do when launched the README's way (tests/test_blas_server.py, tests/test_workers.py).
threadpoolctl then also pins a BLAS that was loaded earlier.
"""
import os

_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_INHERITED = {v: os.environ.get(v) for v in _BLAS_VARS}   # what a child process should see: the caller's
for _var in _BLAS_VARS:
    os.environ[_var] = "1"

import pytest  # noqa: E402


def child_env(**extra) -> dict:
    """The environment for a process the tests start (a server, a driver): the caller's BLAS variables,
    not the suite's pins, so what the child shows about BLAS it did itself."""
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_VARS}
    env.update({k: v for k, v in _INHERITED.items() if v is not None})
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def ray_up():
    """One real local Ray for the whole test session, shared by the worker tests and the AppTests.

    Started with OPENBLAS_NUM_THREADS=2 in the environment its workers inherit, so a worker showing one
    BLAS thread proves the app pinned it itself.
    """
    import ray

    from ui.session.cluster import ensure_ray

    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "2"
    try:
        ensure_ray(num_cpus=2)
    finally:
        os.environ["OPENBLAS_NUM_THREADS"] = saved if saved is not None else "1"
    yield ray
    ray.shutdown()


@pytest.fixture
def app_pool(ray_up):
    """For AppTests: Ray up; after the test, the page's server pool (one per run folder) ends its workers."""
    yield
    from ui.panels.workers import _pool_for

    _pool_for.clear()   # on_release: pool.shutdown()


@pytest.fixture
def pool(ray_up, tmp_path):
    """A worker pool of its own for a test that drives the session layer without a page."""
    from ui.session.pool import WorkerPool

    p = WorkerPool(tmp_path / "pool-runs", capacity=8, autosave_seconds=3600, reaper=False)
    yield p
    p.shutdown()


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
