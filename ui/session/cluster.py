"""Where training runs: one BLAS thread per training process, and the Ray instance the workers live in.

    pin_blas()      call at start in every process that trains (the page process, each worker actor)
    ensure_ray()    local Ray on first use, or the cluster named by RAY_ADDRESS; cheap once up
    unwrap(ref)     ray.get that hands back a person's error (a ValueError) as itself, not Ray's wrapper

No streamlit here; Ray's own global connection is the only process-wide state (plus the lock that
guards starting it, so two page threads asking at once start one instance).
"""
from __future__ import annotations

import functools
import logging
import os
import sys
import threading

import ray

ADDRESS_VAR = "RAY_ADDRESS"        # Ray's own variable: join that cluster instead of starting one
WORKERS_VAR = "CHAR_RNN_MAX_WORKERS"
WORKERS_PER_CPU = 4                # a playing run keeps a core busy; an idle or paused one costs only memory
_START_LOCK = threading.Lock()


def pin_blas(role: str = "process") -> dict:
    """Limit BLAS (and OpenMP) to one thread in this process, whatever OPENBLAS_NUM_THREADS says.

    OpenBLAS starts one thread per core by default; a training process calls small matrix products in a
    tight loop, where those threads only fight each other and every other run on the machine (measured
    5-10x slower on a busy 2-core machine). threadpoolctl changes the limit of libraries already loaded,
    so numpy is imported first. Returns {library: threads} as threadpoolctl sees them afterwards.

    The first call in a process writes one line to its stderr (BLAS_LOG_PREFIX, pid, role, threads per
    library): the page server's own log, and for a worker Ray's worker log. That line is how a test, or
    whoever runs the server, checks the pin took in processes it cannot call into (OpenBLAS's threads
    carry no name that /proc would show, so their count cannot be read from outside).
    """
    import numpy  # noqa: F401  (load BLAS so the limit reaches it)
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=1)  # applied now; not used as a context manager, so it stays for the process
    info = {f"{i['internal_api']}:{i.get('filepath', '')}": i["num_threads"] for i in threadpool_info()}
    _announce(os.getpid(), role, " ".join(f"{k.split(':')[0]}={v}" for k, v in sorted(info.items())))
    return info


BLAS_LOG_PREFIX = "char-rnn BLAS"


@functools.lru_cache(maxsize=None)
def _announce(pid: int, role: str, threads: str) -> None:
    """Once per process and role (the page script pins on every rerun; the log says it once)."""
    log = logging.getLogger("char_rnn.blas")
    if not log.handlers:  # its own handler: Streamlit and Ray leave the root logger quiet below WARNING
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    log.info("%s pid=%d role=%s threads: %s", BLAS_LOG_PREFIX, pid, role, threads)


def ensure_ray(num_cpus: int | None = None) -> None:
    """Connect this process to Ray once: the cluster at RAY_ADDRESS if set, else a new local instance.

    The local instance uses every core (or `num_cpus`), no dashboard, warnings only, and keeps the
    workers' output out of the page server's log. address="local" makes sure a cluster someone else
    started on this machine with `ray start` is never joined by accident.

    Token authentication: a new local instance keeps Ray's own default (token on, a token generated in
    ~/.ray once), because Ray listens on the machine's address, not only on localhost. Ray then logs a
    notice on every start; setting RAY_AUTH_MODE=token here would not silence it, since Ray reads its
    config once at import, so the notice's logger is quietened for the start instead. An explicit
    RAY_AUTH_MODE in the environment is respected as Ray does (and then Ray prints nothing either).
    """
    if ray.is_initialized():
        return
    with _START_LOCK:
        if ray.is_initialized():
            return
        if threading.current_thread() is threading.main_thread():
            _init(num_cpus)
        else:
            _init_in_keeper(num_cpus)


def _init(num_cpus: int | None) -> None:
    quiet = dict(log_to_driver=False, logging_level=logging.WARNING, include_dashboard=False)
    address = os.environ.get(ADDRESS_VAR, "").strip()
    if address:
        ray.init(address=address, **quiet)
        return
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        ray.init(address="local", num_cpus=num_cpus, **quiet)
    finally:
        notice.setLevel(level)


def _init_in_keeper(num_cpus: int | None) -> None:
    """Start Ray from a thread that lives as long as the process.

    Ray starts its local processes (GCS, raylet) with PR_SET_PDEATHSIG, which Linux fires when the
    *thread* that forked them ends, not the process. Streamlit runs each script run in a thread of its
    own that ends with the run, so a Ray started there was killed seconds after the first page was drawn
    (found by the browser tests: "Failed to connect to GCS"). The keeper thread never ends.
    """
    started, failed = threading.Event(), []

    def keep() -> None:
        try:
            _init(num_cpus)
        except BaseException as err:  # noqa: BLE001  handed to the caller below
            failed.append(err)
        started.set()
        if not failed:
            threading.Event().wait()   # forever: Ray's processes live as long as this thread

    threading.Thread(target=keep, name="ray-keeper", daemon=True).start()
    started.wait()
    if failed:
        raise failed[0]


def cluster_cpus() -> int:
    ensure_ray()
    return max(1, int(ray.cluster_resources().get("CPU", os.cpu_count() or 1)))


def default_capacity() -> int:
    """Live workers allowed at once: $CHAR_RNN_MAX_WORKERS, else 4 per CPU of the Ray cluster."""
    raw = os.environ.get(WORKERS_VAR, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{WORKERS_VAR} must be a whole number >= 1, not {raw!r}.")
        return n
    return WORKERS_PER_CPU * cluster_cpus()


def unwrap(ref, timeout: float | None = None):
    """ray.get(ref), but an error a person caused (a ValueError raised in the worker) comes back as itself.

    Ray wraps a remote exception in a RayTaskError; the page wants the original class and its sentence.
    Anything else (a dead worker, a bug) propagates as Ray raised it.
    """
    try:
        return ray.get(ref, timeout=timeout)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, ValueError):
            raise cause from None
        raise


__all__ = ["ADDRESS_VAR", "BLAS_LOG_PREFIX", "WORKERS_VAR", "cluster_cpus", "default_capacity", "ensure_ray", "pin_blas", "unwrap"]
