"""Play in a real browser, measured where a person would see it (issue 11's bars, with a margin).

A sampler inside the page (setInterval, every 25 ms) records: the Iteration readout; whether a live chart's
element container is marked stale (Streamlit 1.67 sets `data-stale="true"` on an stElementContainer whose
element belongs to the running script run but has not been re-sent yet) and whether one is visibly faded
(the stale style fades opacity after 0.5 s, so a computed opacity below 0.99 is what a person sees);
whether a chart is missing (blank); and, for the view-switch test, when the chosen view's chart appears.
bench/bench_browser.py prints the same measurements over more rounds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from .helpers import assert_no_console_errors, assert_no_exception, open_app, plotly_charts, save_screenshot
from .test_scenarios import button, click_while_playing, iteration, wait_until

LIVE_CHARTS = ("loss_chart", "hidden_heatmap", "prob_bars")
SAMPLER = """(charts) => {
  const metric = (label) => {
    const m = [...document.querySelectorAll('[data-testid=stMetric]')].find(
      e => (e.querySelector('[data-testid=stMetricLabel]') || {}).innerText?.trim() === label);
    return m ? m.querySelector('[data-testid=stMetricValue]').innerText.trim() : null;
  };
  const s = window.__play = {t0: performance.now(), rows: [], shown: {}};
  s.timer = setInterval(() => {
    const now = performance.now() - s.t0;
    const boxes = charts.map(k => document.querySelector('.st-key-' + k));
    const drawn = boxes.map(b => !!(b && b.querySelector('.js-plotly-plot .main-svg')));
    const holders = boxes.map(b => b && b.closest('[data-testid=stElementContainer]'));
    const stale = holders.some(h => h && h.getAttribute('data-stale') === 'true');
    const faded = holders.some(h => h && parseFloat(getComputedStyle(h).opacity) < 0.99);
    s.rows.push([now, stale, faded, drawn.some(d => !d), metric('Iteration')]);
    for (const el of document.querySelectorAll('[class*="st-key-"] .js-plotly-plot .main-svg')) {
      const key = [...el.closest('[class*="st-key-"]').classList].find(c => c.startsWith('st-key-')).slice(7);
      if (!(key in s.shown)) s.shown[key] = now;
    }
  }, 25);
}"""


def start_sampler(page: Page, charts=LIVE_CHARTS) -> None:
    page.evaluate(SAMPLER, list(charts))


def page_clock(page: Page) -> float:
    """ms on the sampler's clock (performance.now() - t0), read in the page."""
    return page.evaluate("() => performance.now() - window.__play.t0")


def samples(page: Page, stop: bool = True) -> dict:
    return page.evaluate("(stop) => { const s = window.__play; if (stop) clearInterval(s.timer);"
                         " return {rows: s.rows, shown: s.shown}; }", stop)


def playing_page(app_server, page: Page) -> None:
    open_app(page, app_server)
    click_while_playing(page, "play")
    expect(button(page, "play")).to_contain_text("Pause")
    wait_until(page, lambda: iteration(page) > 0, 10000, "Play's first redraw")


def test_play_redraws_often_and_its_charts_are_never_faded_or_blank(app_server, page):
    playing_page(app_server, page)
    start_sampler(page)
    mark = page.st_runs.mark()
    page.wait_for_timeout(5000)
    redraws = page.st_runs.finishes_since(mark)
    rows = samples(page)["rows"]
    seconds = (rows[-1][0] - rows[0][0]) / 1000
    faded = sum(r[2] or r[3] for r in rows) / len(rows)
    stale = sum(r[1] for r in rows) / len(rows)
    its = [int(r[4].replace(",", "")) for r in rows if r[4]]
    save_screenshot(page, "test_play-charts")
    click_while_playing(page, "play")
    print(f"Play in Chromium: {redraws / seconds:.2f} redraws/s, faded or blank {faded:.1%}, marked stale "
          f"{stale:.1%} of {len(rows)} samples over {seconds:.1f} s; iteration {its[0]:,} -> {its[-1]:,}")
    assert len(rows) > 100 and its[-1] > its[0]
    assert redraws / seconds >= 1.5, f"{redraws} redraws in {seconds:.1f} s"
    assert faded < 0.05, f"live charts faded or blank {faded:.1%} of the time"
    assert_no_exception(page)
    assert_no_console_errors(page)


def test_a_view_switch_during_play_shows_within_a_second(app_server, page):
    playing_page(app_server, page)
    start_sampler(page)
    page.wait_for_timeout(600)
    assert "grad_flow" not in samples(page, stop=False)["shown"]
    clicked = page_clock(page)
    page.locator(".st-key-look_inside button").filter(has_text="Gradient flow").first.click()
    wait_until(page, lambda: "grad_flow" in samples(page, stop=False)["shown"], 10000, "the gradient-flow chart")
    shown = samples(page)["shown"]["grad_flow"]
    expect(plotly_charts(page, "grad_flow")).to_have_count(1)
    save_screenshot(page, "test_view_switch-shown")
    click_while_playing(page, "play")
    print(f"view switch during Play: shown {shown - clicked:.0f} ms after the click")
    assert shown - clicked < 1000, f"the chosen view took {shown - clicked:.0f} ms to show"
    assert_no_exception(page)


def test_pause_stops_the_iteration_readout_at_once(app_server, page):
    playing_page(app_server, page)
    start_sampler(page)
    page.wait_for_timeout(1500)
    clicked = page_clock(page)
    button(page, "play").click()
    expect(button(page, "play")).to_contain_text("Play", timeout=10000)
    page.wait_for_timeout(1500)
    rows = samples(page)["rows"]
    values = [(t, r) for t, _, _, _, r in rows if r]
    before = [r for t, r in values if t < clicked][-1]
    changes = [t for (t, r), (_, prev) in zip(values[1:], values) if r != prev and t >= clicked]
    last = changes[-1] - clicked if changes else 0.0
    final = values[-1][1]
    print(f"Pause: readout {before} -> {final}, last change {last:.0f} ms after the click")
    assert last < 600, f"the Iteration readout still moved {last:.0f} ms after Pause"
    page.wait_for_timeout(1000)
    assert iteration(page) == int(final.replace(",", ""))   # and nothing trains on behind the page
    assert_no_exception(page)


def test_first_page_is_ready_soon_after_streamlit_run(chromium_path, page, tmp_path):
    """From the README's `streamlit run` (a new process, a new Ray) to the first drawn loss chart."""
    from .conftest import APP_SCRIPT, REPO_ROOT, _free_port

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                              "MKL_NUM_THREADS", "RAY_ADDRESS")}
    ray_tmp = Path(tempfile.mkdtemp(prefix="rf", dir="/tmp"))  # a Ray of its own: short, for its socket paths
    env.update(CHAR_RNN_RUNS_DIR=str(tmp_path / "runs"), RAY_TMPDIR=str(ray_tmp))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", APP_SCRIPT, "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--server.port", str(port),
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            assert proc.poll() is None and time.monotonic() - t0 < 60, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if requests.get(url + "/_stcore/health", timeout=1).text.strip() == "ok":
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        healthy = time.monotonic() - t0
        page.goto(url + "/", wait_until="domcontentloaded")
        page.locator(".st-key-loss_chart .js-plotly-plot .main-svg").first.wait_for(timeout=60000)
        ready = time.monotonic() - t0
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        import shutil
        shutil.rmtree(ray_tmp, ignore_errors=True)
    print(f"first page: server healthy after {healthy:.1f} s, loss chart drawn after {ready:.1f} s")
    assert ready < 15, f"the first chart took {ready:.1f} s after `streamlit run` (bar: 10 s on an idle machine)"
