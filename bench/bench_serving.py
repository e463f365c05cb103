"""Serving a class: how many visitors one `streamlit run` server keeps at Play speed.

    python bench/bench_serving.py                      # 1, 2, 4, 8 sessions, 20 s each: ~3 minutes
    python bench/bench_serving.py --sessions 1,4 --seconds 10   # quicker, noisier

The app is started exactly as the README starts it, `streamlit run streamlit_app.py` with only the
headless, port and address flags, in a fresh process group, with the caller's environment minus any
BLAS/OpenMP thread variable (so a shell that pins BLAS by hand cannot flatter the figure) and with
CHAR_RNN_RUNS_DIR pointing at a temporary folder. Nothing in this process sets a variable the server
sees. Then, for each session count, that many protocol-level clients (bench/streamlit_client.py; each
one tab, honouring the fragment's auto-rerun timer like the browser) press Play together and are
watched for `--seconds` after a short warm-up (the window opens whether or not every Play click has
come back: a visitor still waiting counts with the readout they see; "Play (ms)" is the click's round
trip, and a click not answered within --timeout is reported under the table and ends the escalation):
- it/s of each session: the rise of its "Iteration" readout between the first and last redraw of the
  window, over the time between them (what a visitor sees, not what the server claims);
- redraws/s of each session: successful script runs (fragment ticks and full runs) per second;
- server CPU: utime + stime of the server and every descendant (e.g. Ray's raylet and workers) from
  /proc, in cores (1.00 = one core busy the whole window); RSS: the largest sum seen in 1 s samples;
- KB/s each: ForwardMsg payload received per session (uncompressed);
- Pause: each session clicks Pause ("Pause (ms)" is that click's round trip), then twice waits 1.5 s
  and asks for a plain rerun. It holds if the readout is the same both times and the page asked for no
  more ticks; "it. after Pause" is what the readout still gained after the Pause click came back.
- load avg: the machine's 1-minute load average as the window closed (other work shares the cores).
Sessions are kept from one count to the next (count 4 reuses the 2 of count 2 and opens 2 more), so
the server holds exactly as many sessions as are playing.

E is the engine alone in this process: a Trainer at the page's default settings (built-in prose
text) stepping with BLAS pinned to one thread by threadpoolctl, measured while the
server is idle, before the first count and after each; the median is E. Ratios are to E.
Loopback only; the server is stopped (its whole process group) at the end, also on error.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from streamlit_client import StreamlitClientError, StreamlitSession, as_number, run_to_end  # noqa: E402,F401

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")
READOUT = "Iteration"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- the engine alone
def make_engine():
    from assets.corpora import read_corpus
    from rnn_core import Trainer
    from ui.session.widgets import DEFAULT_CORPUS, WIDGET_DEFAULTS, config_from_widgets
    # The page's default text and settings (a first visit's run), so E is what one visitor's Play could reach.
    trainer = Trainer(read_corpus(DEFAULT_CORPUS), config_from_widgets(dict(WIDGET_DEFAULTS)))
    trainer.step(50)  # warm caches and allocations
    return trainer


def engine_rate(trainer, seconds: float = 1.5) -> float:
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        done, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            trainer.step(100)
            done += 100
        return done / (time.perf_counter() - t0)


# --------------------------------------------------------------------------- the server's process tree
def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_usage(root: int) -> tuple[float, int, int]:
    """(CPU seconds used so far, RSS bytes, process count) of `root` and all its descendants."""
    cpu, rss, n = 0.0, 0, 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
        cpu += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
        n += 1
    return cpu, rss, n


# --------------------------------------------------------------------------- starting the app
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, runs_dir: Path, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env["CHAR_RNN_RUNS_DIR"] = str(runs_dir)
    exe = Path(sys.executable).with_name("streamlit")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]
    cmd += ["run", "streamlit_app.py", "--server.headless", "true", "--server.port", str(port),
            "--server.address", "127.0.0.1"]
    log = open(log_path, "wb")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float = 90.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /_stcore/health within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the group we made: the server and whatever it started
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except ProcessLookupError:
            pass
    try:  # children that outlived the server (same group)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- one session count
@dataclass
class Level:
    n: int
    seconds: float = 0.0
    its: list[float] = field(default_factory=list)       # it/s of each session
    redraws: list[float] = field(default_factory=list)   # redraws/s of each session
    kbps: list[float] = field(default_factory=list)      # KB/s received by each session
    cpu_cores: float = 0.0
    client_cores: float = 0.0
    rss_mb: float = 0.0
    procs: int = 0
    play_ms: list[float] = field(default_factory=list)    # Play click to its run's end, sessions answered
    pause_ms: list[float] = field(default_factory=list)
    pause_holds: list[bool] = field(default_factory=list)
    after_pause: list[float] = field(default_factory=list)  # iterations gained after the Pause click
    load: float = 0.0                                       # 1-minute load average at the window's end
    failed: str = ""                                        # why this count could not be measured
    exceptions: int = 0


def readout_rate(s: StreamlitSession, t0: float, t1: float) -> float:
    points = [(t, as_number(v)) for t, v in s.metric_log.get(READOUT, []) if t0 <= t <= t1]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return 0.0
    return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


async def pause_and_check(s: StreamlitSession, wait: float) -> tuple[float, bool, float]:
    """(seconds the Pause click took, whether the readout then stays still, iterations it still
    gained after the Pause click's run had come back, e.g. from a tick still training)."""
    t0 = time.monotonic()
    await s.click("play")  # the same key shows Pause while playing
    pause_s = time.monotonic() - t0
    at_pause = s.metric(READOUT)[0]
    readings = []
    for _ in range(2):
        await asyncio.sleep(wait)
        await s.rerun_and_wait()
        readings.append(s.metric(READOUT)[0])
    holds = readings[0] == readings[1] and not s.auto_rerun_intervals
    return pause_s, holds, as_number(readings[0]) - as_number(at_pause)


async def timed_click(s: StreamlitSession, key: str) -> float:
    t0 = time.monotonic()
    await s.click(key)
    return time.monotonic() - t0


async def run_level(sessions: list[StreamlitSession], n: int, server_pid: int, args) -> Level:
    """Every session presses Play at once; the window opens after the warm-up whether or not each
    Play has come back (a visitor still waiting counts with the readout they see); then Pause, for
    the sessions whose Play came back within the timeout."""
    lv = Level(n)
    playing = sessions[:n]
    exc0 = sum(len(s.exceptions) for s in playing)
    plays = [asyncio.create_task(timed_click(s, "play")) for s in playing]
    await asyncio.sleep(args.warmup)
    bytes0 = [s.bytes_received for s in playing]
    cpu0, rss, lv.procs = tree_usage(server_pid)
    client0, t0 = time.process_time(), time.monotonic()
    peak = rss
    while time.monotonic() - t0 < args.seconds:
        await asyncio.sleep(min(1.0, args.seconds - (time.monotonic() - t0)))
        _, rss, procs = tree_usage(server_pid)
        peak, lv.procs = max(peak, rss), max(lv.procs, procs)
    t1 = time.monotonic()
    cpu1, _, _ = tree_usage(server_pid)
    lv.load = os.getloadavg()[0]
    lv.seconds = t1 - t0
    lv.cpu_cores = (cpu1 - cpu0) / lv.seconds
    lv.client_cores = (time.process_time() - client0) / lv.seconds
    lv.rss_mb = peak / 1e6
    lv.its = [readout_rate(s, t0, t1) for s in playing]
    lv.redraws = [s.redraws(t0, t1) / lv.seconds for s in playing]
    lv.kbps = [(s.bytes_received - b) / 1e3 / lv.seconds for s, b in zip(playing, bytes0)]
    await asyncio.gather(*plays, return_exceptions=True)  # each bounded by the session's timeout
    served = [s for s, t in zip(playing, plays) if t.exception() is None]
    lv.play_ms = [t.result() * 1e3 for t in plays if t.exception() is None]
    if len(served) < n:
        lv.failed = f"Play not answered within {args.timeout:.0f} s in {n - len(served)} of {n} sessions"
    if not all(s.auto_rerun_intervals for s in served):
        raise SystemExit("Play did not start the fragment's auto-rerun in every session: has the page changed?")
    try:
        results = await asyncio.gather(*(pause_and_check(s, args.pause_wait) for s in served))
    except StreamlitClientError as e:
        lv.failed = (lv.failed + "; " if lv.failed else "") + f"Pause: {e}"
        return lv
    lv.pause_ms = [r[0] * 1e3 for r in results]
    lv.pause_holds = [r[1] for r in results]
    lv.after_pause = [r[2] for r in results]
    lv.exceptions = sum(len(s.exceptions) for s in playing) - exc0
    return lv


# --------------------------------------------------------------------------- report
def _max(values: list[float], fmt: str = ",.0f") -> str:
    return format(max(values), fmt) if values else "-"


def table(levels: list[Level], e: float, cores: int) -> str:
    rows = ["| sessions | it/s each (min / median / max) | total it/s | total / E | slowest share | "
            "redraws/s each (min / median) | server CPU (cores) | server RSS (MB) | processes | "
            "KB/s each | client CPU (cores) | Play (ms, max) | Pause holds | Pause (ms, max) | "
            "it. after Pause (max) | exceptions | load avg |",
            "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    notes = []
    for lv in levels:
        if not lv.its:
            rows.append(f"| {lv.n} | not measured: {lv.failed} |" + " |" * 15)
            continue
        if lv.failed:
            notes.append(f"{lv.n} sessions: {lv.failed}.")
        total = sum(lv.its)
        share = min(lv.its) / total if total else 0.0
        rows.append(
            f"| {lv.n} | {min(lv.its):,.0f} / {statistics.median(lv.its):,.0f} / {max(lv.its):,.0f} "
            f"| {total:,.0f} | {total / e:.2f} | {share:.0%} "
            f"| {min(lv.redraws):.2f} / {statistics.median(lv.redraws):.2f} "
            f"| {lv.cpu_cores:.2f} of {cores} | {lv.rss_mb:,.0f} | {lv.procs} | {statistics.median(lv.kbps):,.0f} "
            f"| {lv.client_cores:.2f} | {_max(lv.play_ms)} | {sum(lv.pause_holds)}/{lv.n} | {_max(lv.pause_ms)} "
            f"| {_max(lv.after_pause)} | {lv.exceptions} | {lv.load:.1f} |")
    return "\n".join(rows + ([""] + notes if notes else []))


async def measure(url: str, server_pid: int, counts: list[int], args, engine) -> tuple[list[Level], list[float]]:
    e_rounds = [engine_rate(engine)]  # the server is idle here: nobody plays between counts
    sessions: list[StreamlitSession] = []
    levels = []
    try:
        for n in counts:
            try:
                while len(sessions) < n:
                    s = StreamlitSession(url, timeout=args.timeout)
                    sessions.append(s)
                    await s.open()
            except StreamlitClientError as e:
                levels.append(Level(n, failed=f"opening session {len(sessions)}: {e}"))
                break
            s0 = sessions[0]
            if READOUT not in s0.metrics:
                raise SystemExit(f"no st.metric labelled {READOUT!r} on the page: has the page changed?")
            lv = await run_level(sessions, n, server_pid, args)
            levels.append(lv)
            print(f"  {n} session(s): it/s each {', '.join(f'{x:,.0f}' for x in lv.its)}; "
                  f"redraws/s {', '.join(f'{x:.2f}' for x in lv.redraws)}; server CPU {lv.cpu_cores:.2f} cores; "
                  f"pause holds {sum(lv.pause_holds)}/{n}; load average {lv.load:.1f}", flush=True)
            if lv.failed:  # a server that cannot answer at this count will not at a higher one
                print(f"  {n} session(s): {lv.failed}; stopping here", flush=True)
                break
            e_rounds.append(engine_rate(engine))
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    return levels, e_rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", default="1,2,4,8", help="comma-separated session counts, increasing")
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window per count")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of Play before the window opens")
    ap.add_argument("--pause-wait", type=float, default=1.5, help="seconds after Pause before the check")
    ap.add_argument("--timeout", type=float, default=60.0, help="longest wait for one answer of the server")
    args = ap.parse_args()
    counts = sorted({int(x) for x in args.sessions.split(",")})
    if not counts or counts[0] < 1 or counts[-1] > 64:
        raise SystemExit("--sessions takes counts between 1 and 64, e.g. 1,2,4,8")
    engine = make_engine()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "server.log"
        t0 = time.monotonic()
        proc = start_server(port, Path(tmp) / "runs", log_path)
        try:
            ready = wait_healthy(proc, url)
            print(f"server up in {ready:.1f} s (pid {proc.pid}, {url}); {cores} cores; "
                  f"{args.seconds:.0f} s per count after {args.warmup:.0f} s of warm-up", flush=True)
            levels, e_rounds = asyncio.run(measure(url, proc.pid, counts, args, engine))
        except BaseException:
            print("--- server log (tail) ---\n" + log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop_server(proc)
    e = statistics.median(e_rounds)
    print(f"\nE = {e:,.0f} it/s (engine alone, one BLAS thread, this process; rounds: "
          f"{', '.join(f'{x:,.0f}' for x in e_rounds)}); whole run {time.monotonic() - t0:.0f} s\n")
    print(table(levels, e, cores))


if __name__ == "__main__":
    main()
