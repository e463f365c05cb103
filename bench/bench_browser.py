"""Play as a person sees it in Chromium: redraws/s, time the live charts are faded or blank, view switch
and Pause latency, and how long after `streamlit run` the first chart is drawn.

    python bench/bench_browser.py               # ~1 min on 2 cores; needs /usr/bin/chromium
    python bench/bench_browser.py --rounds 5

One server, started as the README starts it (no BLAS variables), one fresh browser context per round.
The in-page sampler is the browser tests' own (tests/e2e/test_play.py, every 25 ms): "stale" is the
share of samples where a live chart's element container carries Streamlit's data-stale="true" (it is
waiting to be re-sent by the running fragment); "faded or blank" is what a person sees (Streamlit fades a
stale element only after 0.5 s, so a computed opacity below 0.99, or a chart missing). Medians over the
rounds. The issue's bars (Chromium): faded or blank < 5% of Play, view switch < 1 s, Pause stops the
readout in < 0.6 s, >= 1.5 redraws/s; first page ready < 10 s after `streamlit run`.

Measured 2026-12-02 (2 cores shared with other jobs, load average 10.9, i.e. ~5 runnable processes per
core), median of 3 rounds: first chart 7.9 s after `streamlit run`; 1.7 redraws/s; charts faded or blank
7.0% of Play (marked stale 20%: each fragment rerun re-sends them, the fade only starts after 0.5 s); view
switch 1,654 ms; Pause 825 ms. The browser tests (tests/e2e/test_play.py) on the same machine a minute
earlier, one round each: 2.0 redraws/s, faded or blank 2.9%, view switch 532 ms, Pause 336 ms, first chart
6.9 s. The latencies are dominated by the loaded machine's full-rerun time, not by training (Pause lands
in the worker within one 0.1 s chunk); re-measure on a quiet machine before quoting them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, VIEWPORT  # noqa: E402
from tests.e2e.test_play import LIVE_CHARTS, SAMPLER  # noqa: E402

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAY_ADDRESS")


def start(port: int, work: Path):
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env.update(CHAR_RNN_RUNS_DIR=str(work / "runs"), RAY_TMPDIR=tempfile.mkdtemp(prefix="rb", dir="/tmp"))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
                             "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=open(work / "server.log", "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if requests.get(url + "/_stcore/health", timeout=1).text.strip() == "ok":
                return proc, url, t0
        except requests.RequestException:
            time.sleep(0.05)


def clock(page) -> float:
    return page.evaluate("() => performance.now() - window.__play.t0")


def rows(page, stop=True) -> dict:
    return page.evaluate("(stop) => { const s = window.__play; if (stop) clearInterval(s.timer);"
                         " return {rows: s.rows, shown: s.shown}; }", stop)


def play_button(page):
    return page.locator(".st-key-play button:visible").first


def one_round(browser, url: str, seconds: float) -> dict:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(url + "/")
    page.locator(".st-key-loss_chart .js-plotly-plot .main-svg").first.wait_for(timeout=60000)
    page.locator("[data-test-script-state='notRunning']").wait_for(state="attached")
    play_button(page).click()
    page.wait_for_function("() => document.querySelector('.st-key-play').innerText.includes('Pause')")
    page.wait_for_timeout(1000)
    page.evaluate(SAMPLER, list(LIVE_CHARTS))
    page.wait_for_timeout(seconds * 1000)
    got = rows(page, stop=False)["rows"]
    span = (got[-1][0] - got[0][0]) / 1000
    values = [r[4] for r in got if r[4]]
    redraws = sum(1 for a, b in zip(values, values[1:]) if a != b) / span  # readout changes: one per redraw
    out = {"redraws/s": redraws, "faded or blank %": 100 * sum(r[2] or r[3] for r in got) / len(got),
           "marked stale %": 100 * sum(r[1] for r in got) / len(got)}
    clicked = clock(page)
    page.locator(".st-key-look_inside button").filter(has_text="Gradient flow").first.click()
    page.locator(".st-key-grad_flow .js-plotly-plot .main-svg").first.wait_for(timeout=30000)
    page.wait_for_timeout(100)
    out["view switch ms"] = rows(page, stop=False)["shown"].get("grad_flow", float("nan")) - clicked
    page.wait_for_timeout(1000)
    clicked = clock(page)
    play_button(page).click()
    page.wait_for_timeout(2000)
    got = rows(page)["rows"]
    values = [(x[0], x[4]) for x in got if x[4]]   # (ms, Iteration readout)
    changes = [t for (t, v), (_, p) in zip(values[1:], values) if v != p and t >= clicked]
    out["pause ms"] = (changes[-1] - clicked) if changes else 0.0
    ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc, url, t0 = start(port, work)
    results, first = [], None
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url + "/")
            page.locator(".st-key-loss_chart .js-plotly-plot .main-svg").first.wait_for(timeout=60000)
            first = time.monotonic() - t0
            page.close()
            for _ in range(args.rounds):
                results.append(one_round(browser, url, args.seconds))
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)
    print(f"first chart drawn {first:.1f} s after `streamlit run` (bar: < 10 s)")
    print(f"| Play in Chromium, median of {args.rounds} rounds of {args.seconds:g} s | value | bar |")
    print("|---|---:|---|")
    bars = {"redraws/s": ">= 1.5", "faded or blank %": "< 5", "marked stale %": "(Streamlit's flag)",
            "view switch ms": "< 1000", "pause ms": "< 600"}
    for key, bar in bars.items():
        print(f"| {key} | {statistics.median(r[key] for r in results):.1f} | {bar} |")


if __name__ == "__main__":
    main()
