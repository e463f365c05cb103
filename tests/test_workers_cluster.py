"""RAY_ADDRESS: a run trains on a separately started Ray cluster.

The cluster is a real `ray start --head --block` in its own process group, on free ports, with its own
temp folder and its own auth token, so it never meets another Ray on the machine; the test ends it by
killing that process group (never `ray stop`, which would end every Ray here). A fresh Python process
with RAY_ADDRESS set builds a worker through the pool and trains it.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")

DRIVER = """
import json, ray
from ui.session.pool import WorkerPool
from ui.session.player import Group
from tests.helpers_workers import PROSE, SMALL
pool = WorkerPool({store!r}, capacity=2, reaper=False)
run = pool.create(text=PROSE, config=SMALL)
group = Group(pool, [run])
group.train(300)
group.join()
m = group.read()[0]
print(json.dumps({{"iteration": m.iteration, "error": group.error, "worker_node": m.where["node_id"],
                  "nodes": [n["NodeID"] for n in ray.nodes() if n["Alive"]], "gcs": ray.get_runtime_context().gcs_address,
                  "cpus": ray.cluster_resources().get("CPU"), "saved": m.saved_iteration}}))
"""


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _listening(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> bool:
    """Wait until the cluster's GCS accepts connections (or the cluster process has died)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the whole process group (ray start, GCS, raylet, workers), then SIGKILL what is left:
    `ray start --block` shuts its children down slowly on SIGTERM, and the test must not leave them."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


@pytest.mark.skipif(not RAY.exists(), reason="the ray command is not installed next to this Python")
def test_a_run_trains_on_a_cluster_named_by_ray_address(tmp_path):
    port, dashboard_port, agent_port = _free_ports(3)
    temp = tempfile.mkdtemp(prefix="rayc", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    env.pop("RAY_ADDRESS", None)
    cluster = subprocess.Popen(
        [str(RAY), "start", "--head", f"--port={port}", "--num-cpus=1", "--block", "--include-dashboard=false",
         f"--temp-dir={temp}", f"--dashboard-port={dashboard_port}", f"--dashboard-agent-listen-port={agent_port}",
         "--disable-usage-stats"],
        env=env, cwd=temp, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert _listening(port, cluster), cluster.stdout.read().decode(errors="replace")[-3000:]
        driver = subprocess.run(
            [sys.executable, "-c", DRIVER.format(store=str(tmp_path / "runs"))],
            env={**env, "RAY_ADDRESS": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
            capture_output=True, text=True, timeout=120,
        )
        assert driver.returncode == 0, driver.stderr[-3000:]
        out = json.loads(driver.stdout.strip().splitlines()[-1])
    finally:
        _stop(cluster)
        shutil.rmtree(temp, ignore_errors=True)
    assert out["error"] is None and out["iteration"] == 300 and out["saved"] == 300
    assert out["gcs"].endswith(f":{port}")             # joined that cluster, did not start its own
    assert out["cpus"] == 1                             # the 1-CPU cluster, not a local 2-CPU instance
    assert out["worker_node"] in out["nodes"]           # and the worker ran on one of its nodes
    assert (tmp_path / "runs").is_dir() and len(list((tmp_path / "runs").glob("*.npz"))) == 1
