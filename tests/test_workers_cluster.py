"""RAY_ADDRESS: runs train on a separately started Ray cluster.

The cluster is a real `ray start --head --block` in its own process group, on free ports, with its own
temp folder and its own auth token, so it never meets another Ray on the machine; the module's tests share
it and the fixture ends it by killing that process group (never `ray stop`, which would end every Ray
here). Each test runs a fresh Python process with RAY_ADDRESS set: one builds a worker through the pool
and trains it; the other is the page itself (AppTest) receiving a Train click.
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

PAGE = """
import json, ray
from streamlit.testing.v1 import AppTest
from ui.session.session import session_of
at = AppTest.from_file("streamlit_app.py", default_timeout=120)
at.run()
at.number_input(key="hidden_size").set_value(8)
at.number_input(key="seq_length").set_value(10)
at.button(key="reset").click()
at.run()
at.number_input(key="n_iters").set_value(200)
at.button(key="train").click()
at.run()
sess = session_of(at.session_state)
m = sess.group.read()[0]
print(json.dumps({{"exception": [str(e.value) for e in at.exception], "iteration": sess.trainer.iteration,
                  "shown": {{x.label: x.value for x in at.metric}}["Iteration"], "worker_node": m.where["node_id"],
                  "worker_pid": m.where["pid"], "nodes": [n["NodeID"] for n in ray.nodes() if n["Alive"]],
                  "gcs": ray.get_runtime_context().gcs_address, "cpus": ray.cluster_resources().get("CPU"),
                  "run": at.query_params.get("run"), "saved": m.saved_iteration}}))
"""

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
group.save()
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


@pytest.fixture(scope="module")
def cluster():
    """A 1-CPU Ray cluster of its own: (its GCS port, the environment a driver needs to join it)."""
    if not RAY.exists():
        pytest.skip("the ray command is not installed next to this Python")
    port, dashboard_port, agent_port = _free_ports(3)
    temp = tempfile.mkdtemp(prefix="rayc", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.Popen(
        [str(RAY), "start", "--head", f"--port={port}", "--num-cpus=1", "--block", "--include-dashboard=false",
         f"--temp-dir={temp}", f"--dashboard-port={dashboard_port}", f"--dashboard-agent-listen-port={agent_port}",
         "--disable-usage-stats"],
        env=env, cwd=temp, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert _listening(port, proc), proc.stdout.read().decode(errors="replace")[-3000:]
        yield port, {**env, "RAY_ADDRESS": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    finally:
        _stop(proc)
        shutil.rmtree(temp, ignore_errors=True)


def _drive(code: str, env: dict) -> dict:
    driver = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=180)
    assert driver.returncode == 0, driver.stderr[-3000:]
    return json.loads(driver.stdout.strip().splitlines()[-1])


def test_a_run_trains_on_a_cluster_named_by_ray_address(cluster, tmp_path):
    port, env = cluster
    out = _drive(DRIVER.format(store=str(tmp_path / "runs")), env)
    assert out["error"] is None and out["iteration"] == 300 and out["saved"] == 300
    assert out["gcs"].endswith(f":{port}")             # joined that cluster, did not start its own
    assert out["cpus"] == 1                             # the 1-CPU cluster, not a local 2-CPU instance
    assert out["worker_node"] in out["nodes"]           # and the worker ran on one of its nodes
    assert (tmp_path / "runs").is_dir() and len(list((tmp_path / "runs").glob("*.npz"))) == 1


def test_the_pages_train_click_trains_on_the_cluster(cluster, tmp_path):
    """The page as `streamlit run` runs it, with RAY_ADDRESS in its environment: a Train click trains there."""
    port, env = cluster
    runs = tmp_path / "runs"
    out = _drive(PAGE.format(), {**env, "CHAR_RNN_RUNS_DIR": str(runs)})
    assert out["exception"] == [] and out["iteration"] == 200 and out["shown"] == "200"
    assert out["gcs"].endswith(f":{port}") and out["cpus"] == 1   # the page's driver joined the 1-CPU cluster
    assert out["nodes"] and out["worker_node"] in out["nodes"]     # its run's worker lives on that cluster's node
    assert out["saved"] == 200 and (runs / f"{out['run']}.npz").is_file()   # saved by the worker, named in the URL
