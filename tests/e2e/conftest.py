"""Real-browser fixtures: a live `streamlit run` and Debian's Chromium driven by Playwright.

    def test_train(app_server, page):
        open_app(page, app_server)            # helpers.py
        click_button(page, "train")
        assert read_metric(page, "Iteration") == "100"
        assert_no_console_errors(page)

Fixtures: `chromium_path`, `app_server` (base URL), `browser`, `page` (one fresh context per test,
console errors in `page.console_errors`, a full-page screenshot saved after the test) and
`new_page` (a factory for more independent pages/contexts in one test, e.g. two visitors).
We launch Chromium ourselves (pytest-playwright's plugin is off in pytest.ini): a downloaded
browser (`playwright install`) cannot work on this machine.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .helpers import save_screenshot, track_runs

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_SCRIPT = "streamlit_app.py"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SERVER_START_TIMEOUT_S = 60
VIEWPORT = {"width": 1400, "height": 1000}
# Without the networking flags Chromium keeps dialling Google's hosts, which this machine's closed
# network refuses; --headless is repeated on purpose (the flags the DESIGN notes give, verbatim).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
_HERE = Path(__file__).resolve().parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config, items):
    for item in items:  # this hook sees the whole session: mark only the tests in this folder
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# --------------------------------------------------------------------------- browser binary
@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    reason = (
        f"Chromium not found at {path} (set CHROMIUM_PATH, or `apt-get install -y chromium`; "
        "`bash .ci/run` installs it). Never `playwright install`: downloads cannot work here."
    )
    if _in_ci():
        pytest.fail("CI=true but " + reason, pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- the app server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n_chars: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-n_chars:]
    except OSError as exc:
        return f"<could not read {path}: {exc}>"


@pytest.fixture(scope="session")
def app_server(chromium_path, tmp_path_factory) -> str:
    """Start `streamlit run streamlit_app.py` on a free port; yield its base URL (no trailing /).

    Depends on chromium_path so that a missing browser skips before a server is started.
    The run store goes to a fresh temp dir (CHAR_RNN_RUNS_DIR) so tests never see a person's runs.
    """
    work = tmp_path_factory.mktemp("app_server")
    runs_dir = work / "runs"
    runs_dir.mkdir()
    log_path = work / "streamlit.log"
    port = _free_port()
    # As the README starts it: no BLAS variables (the suite's pins, tests/conftest.py, are for its own
    # process; the app pins BLAS itself, tests/test_blas_server.py) and no RAY_ADDRESS (a local Ray).
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAY_ADDRESS")}
    # The browser tests open some forty tabs on this one server within minutes; a closed tab's workers stay
    # until they have been idle for 10 minutes (ui/session/pool.py), so the default cap (4 per CPU: 8 here)
    # would send later tests to the queue. Room for all of them, as a server for a class would be sized.
    env.update(CHAR_RNN_RUNS_DIR=str(runs_dir), PYTHONUNBUFFERED="1", CHAR_RNN_MAX_WORKERS="48")
    cmd = [
        sys.executable, "-m", "streamlit", "run", APP_SCRIPT,
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the server
        proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {proc.returncode} before it was healthy:\n"
                    + _tail(log_path), pytrace=False,
                )
            try:
                if requests.get(f"{base_url}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {SERVER_START_TIMEOUT_S}s on {base_url}:\n"
                    + _tail(log_path), pytrace=False,
                )
            time.sleep(0.25)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- browser and pages
@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


def _instrument(page) -> None:
    """Collect console errors (what a person would see in devtools) and count script runs."""
    errors: list[str] = []
    page.console_errors = errors
    track_runs(page)  # page.st_runs: the websocket's rerun requests and ends, for expect_rerun

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            errors.append(f"console.error: {msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))


@pytest.fixture
def new_page(browser, request):
    """Factory: each call opens a NEW browser context (its own cookies/session) and page.

    Every page gets `page.console_errors` and a full-page screenshot after the test
    (`<test>.png` for the first, `<test>-2.png`, ... for the next), whether it passed or not.
    """
    opened = []

    def make():
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        _instrument(page)
        opened.append((context, page))
        return page

    yield make

    for i, (context, page) in enumerate(opened, start=1):
        name = request.node.name if i == 1 else f"{request.node.name}-{i}"
        try:
            print(f"screenshot: {save_screenshot(page, name)}")
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"screenshot {name} failed: {exc}")
        finally:
            context.close()


@pytest.fixture
def page(new_page):
    return new_page()

