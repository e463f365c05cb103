"""BLAS is pinned by the app itself, in a real `streamlit run` server started as the README starts it.

The server gets an environment WITHOUT OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS (the suite
pins them for its own process only, tests/conftest.py), so OpenBLAS starts one thread per core unless the
app limits it. One visitor (bench/streamlit_client.py, the protocol the browser speaks) opens the page and
clicks Train, which starts a training worker. Each process that pins BLAS writes one line with what
threadpoolctl reports after the pin (ui/session/cluster.pin_blas): the server's line is in its own log,
the worker's in Ray's worker log under the server's Ray folder (RAY_TMPDIR, a fresh one per test, so no
other Ray on the machine is read). OpenBLAS's threads carry no name, so /proc cannot count them from outside.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import bench_serving as bs
from ui.session.cluster import BLAS_LOG_PREFIX

ROOT = Path(__file__).resolve().parents[1]
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
LINE = re.compile(re.escape(BLAS_LOG_PREFIX) + r" pid=(\d+) role=(\S+)(?: \S+)* threads: (.*)")


def blas_lines(text: str) -> list[tuple[int, str, dict[str, int]]]:
    out = []
    for line in text.splitlines():
        m = LINE.search(line)
        if m:
            threads = dict(kv.split("=") for kv in m.group(3).split())
            out.append((int(m.group(1)), line, {k: int(v) for k, v in threads.items()}))
    return out


async def _train_once(url: str) -> str:
    async with bs.StreamlitSession(url) as s:
        await s.click("train")
        assert s.exceptions == [] and s.metric("Iteration")[0] == "100"
        return s.query_string


def test_a_readme_server_and_its_worker_run_one_blas_thread(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    assert os.cpu_count() >= 2  # with one core OpenBLAS would start one thread anyway: the test would prove nothing
    ray_tmp = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))  # short: Ray's socket paths must fit in 107 bytes
    runs = tmp_path / "runs"
    env.update(CHAR_RNN_RUNS_DIR=str(runs), RAY_TMPDIR=str(ray_tmp), PYTHONUNBUFFERED="1")
    env.pop("RAY_ADDRESS", None)
    port = bs.free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:  # the README's command, nothing added about BLAS
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
                                 "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        bs.wait_healthy(proc, url)
        bs.run_to_end(_train_once(url))  # in a thread of its own: Playwright may run a loop in this one
        worker_logs = ""
        end = time.monotonic() + 20  # Ray flushes a worker's stderr to its file on its own schedule
        while time.monotonic() < end and not blas_lines(worker_logs):
            worker_logs = "".join(p.read_text(errors="replace") for p in ray_tmp.glob("ray/session_*/logs/worker-*.err"))
            time.sleep(0.2)
        server_log = log_path.read_text(errors="replace")
    finally:
        bs.stop_server(proc)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    server = [x for x in blas_lines(server_log) if "role=page-server" in x[1]]
    assert len(server) == 1, server_log[-3000:]              # said once, however many reruns pinned again
    pid, _, threads = server[0]
    assert pid == proc.pid and threads.get("openblas") == 1   # the server process itself
    workers = [x for x in blas_lines(worker_logs) if f"store={runs}" in x[1]]
    assert len({pid for pid, _, _ in workers}) == 1, worker_logs[-3000:]   # one worker (Ray may copy its log)
    for wpid, line, wthreads in workers:
        assert wpid != proc.pid and "role=training-worker" in line and wthreads.get("openblas") == 1
