"""Small Playwright helpers for the Streamlit page, after Streamlit's own e2e suite.

Waiting is never a fixed sleep. The root element publishes the script state,
`<div data-testid="stApp" data-test-connection-state="CONNECTED" data-test-script-state="...">`
(initial, running, rerunRequested, stopRequested, notRunning, compilationError), but a fast rerun
(tens of ms) is often rendered in one React commit and never shows up as "running", so a DOM-only
wait cannot tell "already done" from "not started yet". `expect_rerun` therefore also follows the
app's websocket (`track_runs`, installed on every page by the `page` fixture): it waits for the
rerun request the interaction sent (`rerun_script` BackMsg), then for the `script_finished`
ForwardMsg of that run, then for the DOM to be idle.

Widgets are found by key: Streamlit gives a keyed widget's container the class `st-key-<key>`.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

APP = "[data-testid='stApp']"
CONNECTED = f"{APP}[data-test-connection-state='CONNECTED']"
NOT_RUNNING = f"{APP}[data-test-script-state='notRunning']"
# The top-right status widget shows a running icon while a script (or fragment) runs.
STATUS_RUNNING = "[data-testid='stStatusWidget'] [data-testid^='stStatusWidgetRunning']"
SCREENSHOT_DIR_DEFAULT = Path(tempfile.gettempdir()) / "char-rnn-e2e-screenshots"
RERUN_START_MS = 2000  # how long an interaction may take to send its rerun request (slider debounce ~200 ms)
_FULL_RUN_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
_ANY_RUN_DONE = _FULL_RUN_DONE | {ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class RunTracker:
    """What the page's websocket said, in order: ("sent", fragment_id) for each rerun request
    ("" = full run) and ("finished", ScriptFinishedStatus) for each end of a run."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def attach(self, ws) -> None:
        if "/_stcore/stream" in ws.url:
            ws.on("framesent", self._on_sent)
            ws.on("framereceived", self._on_received)

    def _on_sent(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            try:
                msg = BackMsg.FromString(bytes(payload))
            except Exception:  # never let a decoding problem break the page's event loop
                return
            if msg.WhichOneof("type") == "rerun_script":
                self.events.append(("sent", msg.rerun_script.fragment_id))

    def _on_received(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            try:
                msg = ForwardMsg.FromString(bytes(payload))
            except Exception:
                return
            if msg.WhichOneof("type") == "script_finished":
                self.events.append(("finished", msg.script_finished))

    def mark(self) -> int:
        return len(self.events)

    def request_after(self, mark: int):
        """(index, fragment_id) of the first rerun request at or after `mark`, else None."""
        for i in range(mark, len(self.events)):
            if self.events[i][0] == "sent":
                return i, self.events[i][1]
        return None

    def finished_after(self, index: int, fragment_id: str = "") -> bool:
        """Has a run finished since event `index`? A full-run request waits for a full run's end
        (a fragment tick of a playing page must not count); a fragment request for either."""
        wanted = _ANY_RUN_DONE if fragment_id else _FULL_RUN_DONE
        return any(kind == "finished" and status in wanted for kind, status in self.events[index + 1:])

    def finishes_since(self, mark: int) -> int:
        return sum(1 for kind, status in self.events[mark:] if kind == "finished" and status in _ANY_RUN_DONE)


def track_runs(page: Page) -> RunTracker:
    """Follow the page's Streamlit websocket (call before the first navigation; `page` does)."""
    tracker = RunTracker()
    page.st_runs = tracker
    page.on("websocket", tracker.attach)
    return tracker


def _poll(page: Page, condition, timeout_ms: float) -> bool:
    # page.wait_for_timeout lets Playwright deliver the websocket events between checks.
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() >= deadline:
            return False
        page.wait_for_timeout(20)
    return True


def _after_two_frames(page: Page) -> None:
    # The frame reached the browser; let its JS handler and React's render run before we look.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def wait_idle(page: Page, timeout: float = 30000) -> None:
    """Wait until connected, the script is not running, no running icon and no skeleton is left."""
    page.locator(CONNECTED).wait_for(state="attached", timeout=timeout)
    page.locator(NOT_RUNNING).wait_for(state="attached", timeout=timeout)
    expect(page.locator(STATUS_RUNNING)).to_have_count(0, timeout=timeout)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


@contextlib.contextmanager
def expect_rerun(page: Page, timeout: float = 30000, start_timeout: float = RERUN_START_MS):
    """`with expect_rerun(page): <interaction>`: returns once the rerun it caused has finished.

    If the interaction sends no rerun request within `start_timeout` ms, it only waits for idle.
    Use a larger `timeout` for long reruns (e.g. many training iterations in one click).
    """
    tracker: RunTracker | None = getattr(page, "st_runs", None)
    mark = tracker.mark() if tracker else 0
    yield
    if tracker is None:  # page not made by our fixtures: DOM check after a short grace period
        page.wait_for_timeout(300)
    elif _poll(page, lambda: tracker.request_after(mark) is not None, start_timeout):
        index, fragment_id = tracker.request_after(mark)
        if not _poll(page, lambda: tracker.finished_after(index, fragment_id), timeout):
            raise AssertionError(f"the rerun did not finish within {timeout / 1000:.0f} s")
        _after_two_frames(page)
    wait_idle(page, timeout)


def wait_for_runs(page: Page, count: int = 1, timeout: float = 10000) -> None:
    """Wait until `count` more script runs (full or fragment, e.g. `run_every` ticks) have finished."""
    tracker: RunTracker = page.st_runs
    mark = tracker.mark()
    if not _poll(page, lambda: tracker.finishes_since(mark) >= count, timeout):
        raise AssertionError(f"fewer than {count} script runs finished within {timeout / 1000:.0f} s")
    _after_two_frames(page)


def open_app(page: Page, base_url: str, query: str = "", timeout: float = 60000) -> None:
    """Load the app (optionally with a query string, with or without '?') and wait until idle."""
    url = base_url.rstrip("/") + "/"
    if query:
        url += query if query.startswith("?") else "?" + query
    # The page asks for its first run itself once its websocket is up.
    with expect_rerun(page, timeout, start_timeout=timeout):
        page.goto(url, wait_until="domcontentloaded", timeout=timeout)


# --------------------------------------------------------------------------- widgets by key
def widget(page: Page, key: str) -> Locator:
    """The container of the widget (or keyed element) created with `key=...`."""
    return page.locator(f".st-key-{key}")


def click_button(page: Page, key: str, timeout: float = 30000) -> None:
    """Click the button (st.button / st.download_button / form submit) with this key; wait for the rerun."""
    button = widget(page, key).locator("button").first
    expect(button).to_be_enabled(timeout=timeout)
    with expect_rerun(page, timeout):
        button.click()


def set_number_input(page: Page, key: str, value: float, timeout: float = 30000) -> None:
    """Type a value into st.number_input and commit it with Enter."""
    box = widget(page, key).locator("input").first
    with expect_rerun(page, timeout):
        box.fill(str(value))
        box.press("Enter")


def set_text_input(page: Page, key: str, value: str, timeout: float = 30000) -> None:
    """Type into st.text_input (commit: Enter) or st.text_area (commit: Ctrl+Enter)."""
    box = widget(page, key).locator("input, textarea").first
    is_area = box.evaluate("el => el.tagName === 'TEXTAREA'")
    with expect_rerun(page, timeout):
        box.fill(value)
        box.press("Control+Enter" if is_area else "Enter")


def select_option(page: Page, key: str, label: str, timeout: float = 30000) -> None:
    """Choose the option shown exactly as `label` in st.selectbox.

    In 1.67 the selectbox is a react-aria combobox whose list is virtualized (a long list renders
    only the visible options), so type the label to filter first, then click the exact match.
    """
    box = widget(page, key).locator("input[role='combobox']").first
    box.click()
    box.fill(label)
    option = page.get_by_role("listbox").get_by_role("option", name=label, exact=True)
    with expect_rerun(page, timeout):
        option.click()


def set_slider(page: Page, key: str, value: float, timeout: float = 30000) -> None:
    """Move st.slider's thumb with the arrow keys (one step per press) until it reads `value`.

    The thumb is a visually hidden `<input type="range">`; for a range slider this moves the first thumb.
    """
    thumb = widget(page, key).locator("input[type='range']").first
    read = lambda: float(thumb.evaluate("el => el.value"))  # noqa: E731
    if read() == value:
        return
    key_name = "ArrowRight" if value > read() else "ArrowLeft"
    with expect_rerun(page, timeout):
        thumb.focus()
        for _ in range(1000):
            now = read()
            if (now >= value) if key_name == "ArrowRight" else (now <= value):
                break
            thumb.press(key_name)
    assert abs(read() - value) < 1e-9, f"slider {key!r} stopped at {read()}, not {value} (off its step?)"


def upload_file(page: Page, key: str, name: str, data: bytes, mime: str = "text/plain",
                timeout: float = 30000) -> None:
    """Put one file into st.file_uploader as if a person picked it; wait for the rerun."""
    file_input = widget(page, key).locator("input[type='file']")
    with expect_rerun(page, timeout):
        file_input.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


# --------------------------------------------------------------------------- reading the page
def assert_no_exception(page: Page) -> None:
    """No Python exception box (st.exception / an uncaught error) on the page."""
    boxes = page.get_by_test_id("stException")
    if boxes.count():
        raise AssertionError("exception shown on the page:\n" + "\n---\n".join(boxes.all_inner_texts()))


# Console noise that only this offline machine produces, ignored by default:
# Console messages that are not the app's fault; empty now that the favicon is a local file
# (a `:material/...` page icon made Streamlit fetch it from Google Fonts, unreachable offline).
OFFLINE_NOISE: tuple[str, ...] = ()


def assert_no_console_errors(page: Page, ignore: tuple[str, ...] = OFFLINE_NOISE) -> None:
    """No console.error / uncaught page error, except messages matching a regex in `ignore`."""
    errors = [e for e in getattr(page, "console_errors", []) if not any(re.search(p, e) for p in ignore)]
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def plotly_charts(page: Page, key: str | None = None) -> Locator:
    """All drawn Plotly charts, or the one inside the element keyed `key`."""
    scope = widget(page, key) if key else page
    return scope.locator(".js-plotly-plot")


def read_metric(page: Page, label: str) -> str:
    """The displayed value of the st.metric whose label is exactly `label`."""
    label_el = page.get_by_test_id("stMetricLabel").filter(
        has_text=re.compile(r"^\s*" + re.escape(label) + r"\s*$"))
    metric = page.get_by_test_id("stMetric").filter(has=label_el)
    expect(metric).to_have_count(1)
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def as_number(text: str) -> float:
    """'1,234' -> 1234.0, '2.31' -> 2.31, '-0.5 nats' -> -0.5 (first number in the text)."""
    m = re.search(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?", text)
    if not m:
        raise ValueError(f"no number in {text!r}")
    return float(m.group(0).replace(",", ""))


# --------------------------------------------------------------------------- screenshots
def screenshot_dir() -> Path:
    """$E2E_SCREENSHOT_DIR (set by .ci/run), else /tmp/char-rnn-e2e-screenshots."""
    d = Path(os.environ.get("E2E_SCREENSHOT_DIR") or SCREENSHOT_DIR_DEFAULT)
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_screenshot(page: Page, name: str, max_height: int = 12000) -> Path:
    """Save the whole app as `<screenshot_dir>/<name>.png` and return the path.

    Streamlit scrolls inside `stMain` and `stSidebarContent`, not the document, so Playwright's
    full_page alone gives only the viewport: grow the viewport to the tallest of them first.
    """
    path = screenshot_dir() / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(document.body.scrollHeight, ...[...document.querySelectorAll(
        "[data-testid='stMain'], [data-testid='stSidebarContent']")].map(e => e.scrollHeight))""")
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height), max_height)})
        _after_two_frames(page)
    try:
        page.screenshot(path=str(path), full_page=True, timeout=15000)
    finally:
        if size and height > size["height"]:
            page.set_viewport_size(size)
    return path
