"""What a person sees in a real browser: first load, Train, Play/Pause, uploads, sampling, two visitors.

Each test opens its own browser context on the session's one Streamlit server (conftest.py) and
asserts on what is drawn: metric readouts, the Plotly charts' SVG and their decoded data
(`_fullData`, what plotly.js actually plotted), alerts and the generated text. Screenshots go to
$E2E_SCREENSHOT_DIR (default /tmp/char-rnn-e2e-screenshots): one per page at the end of each test,
plus `<test>-<moment>.png` where an earlier moment is the one worth looking at.
"""
from __future__ import annotations

import struct
import time
import zlib

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    as_number, assert_no_console_errors, assert_no_exception, click_button, expect_rerun, open_app,
    plotly_charts, read_metric, save_screenshot, select_option, set_number_input, set_slider, upload_file,
    wait_for_runs, widget,
)

CHART_KEYS = ("loss_chart", "hidden_heatmap", "prob_bars")
# How the app labels characters: heatmap ticks (panels_charts._tick) and everywhere else (char_label).
TICK = {" ": "␣", "\n": "⏎", "\t": "⇥"}
LABEL = {" ": "␣ space", "\n": "⏎ newline", "\t": "⇥ tab"}


# --------------------------------------------------------------------------- reading the page
def iteration(page: Page) -> int:
    return int(as_number(read_metric(page, "Iteration")))


def chart_traces(page: Page, key: str) -> list[dict]:
    """What plotly.js plotted in the chart keyed `key`: per trace its type, name, point count, x range.

    `_fullData` holds the decoded arrays (the spec sends typed arrays as base64 `bdata`).
    """
    plot = plotly_charts(page, key)
    expect(plot).to_have_count(1)
    for _ in range(50):  # during Play a new spec remounts the chart: plotly.js may not have drawn it yet
        traces = plot.evaluate("""d => d._fullData ? d._fullData.map(t => {
            const xs = t.x ? Array.from(t.x).map(Number) : [];
            return {type: t.type, name: t.name || '', n: xs.length, visible: t.visible,
                    xmin: xs.length ? Math.min(...xs) : null, xmax: xs.length ? Math.max(...xs) : null};
        }) : null""")
        if traces is not None:
            return traces
        page.wait_for_timeout(100)
    raise AssertionError(f"plotly.js never drew the chart {key!r} within 5 s")


def loss_xmax(page: Page) -> float:
    """The last iteration the loss chart reaches (over all its curves)."""
    return max(t["xmax"] for t in chart_traces(page, "loss_chart") if t["n"])


def loss_curves(page: Page, n: int) -> list[dict]:
    """Loss-chart traces with one point per iteration 1..n (the raw and the smooth curve)."""
    return [t for t in chart_traces(page, "loss_chart") if (t["n"], t["xmin"], t["xmax"]) == (n, 1, n)]


def tick_labels(page: Page, key: str, axis: str = "x") -> list[str]:
    return plotly_charts(page, key).locator(f".{axis}tick text").all_text_contents()


def drawn_marks(page: Page, key: str) -> dict:
    """Counts of what the chart's SVG actually draws (not just the spec it received)."""
    return plotly_charts(page, key).evaluate("""d => {
        const box = d.getBoundingClientRect();
        const lines = [...d.querySelectorAll('.scatterlayer .trace .lines path')]
            .map(p => (p.getAttribute('d') || '').split(/[ML]/).length - 1);
        return {width: box.width, height: box.height, svg: d.querySelectorAll('svg.main-svg').length,
                line_points: lines, heat_images: d.querySelectorAll('.heatmaplayer image, .hm image').length,
                bars: d.querySelectorAll('.barlayer .point path').length};
    }""")


def button(page: Page, key: str):
    """The visible <button> of a keyed st.button (1.67 renders a hidden twin next to it)."""
    return widget(page, key).locator("button:visible").first


def wait_until(page: Page, condition, timeout_ms: float, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_ms / 1000:.1f} s")
        page.wait_for_timeout(20)  # lets Playwright deliver websocket events


def click_while_playing(page: Page, key: str, timeout_ms: float = 30000) -> None:
    """Click a button and wait for the full rerun it causes, but not for the page to be idle.

    helpers.click_button ends with wait_idle, which waits for the status widget to stop running:
    with Play on, ticks (fragment reruns) keep it running, so that wait only ends in a gap between ticks.
    """
    tracker = page.st_runs
    mark = tracker.mark()
    button(page, key).click()
    wait_until(page, lambda: tracker.request_after(mark) is not None, timeout_ms, f"{key}: rerun request")
    index, fragment_id = tracker.request_after(mark)
    wait_until(page, lambda: tracker.finished_after(index, fragment_id), timeout_ms, f"{key}: its rerun's end")


def sample_box(page: Page):
    """The st.code box the sampling panel shows the generated text in (just before its caption)."""
    caption = page.get_by_test_id("stCaptionContainer").filter(has_text="is the seed")
    expect(caption).to_have_count(1)
    container = caption.locator("xpath=ancestor::div[@data-testid='stElementContainer'][1]"
                                "/preceding-sibling::div[@data-testid='stElementContainer'][1]")
    return container.get_by_test_id("stCode"), caption


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def tiny_png() -> bytes:
    """A real 1x1 RGB PNG: signature, IHDR, IDAT, IEND with correct CRCs."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00")) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- 1. first load
def test_first_load_draws_the_three_charts(app_server, page):
    open_app(page, app_server)
    expect(page.get_by_role("heading", name="Char-RNN Playground")).to_be_visible()
    assert iteration(page) == 0

    for key in CHART_KEYS:
        expect(plotly_charts(page, key)).to_be_visible()
        marks = drawn_marks(page, key)
        assert marks["svg"] >= 1 and marks["width"] > 100 and marks["height"] > 100, (key, marks)

    # Loss: before any training only the dashed "uniform guess" line, drawn as a real path.
    loss = drawn_marks(page, "loss_chart")
    assert loss["line_points"] and max(loss["line_points"]) >= 2, loss
    assert any(t["name"] == "uniform guess" for t in chart_traces(page, "loss_chart"))

    # Heatmap: a raster of the hidden state, one column per character of the probe text.
    heat = drawn_marks(page, "hidden_heatmap")
    assert heat["heat_images"] >= 1, heat
    probe = widget(page, "probe_text").locator("textarea").input_value()
    assert probe, "the probe box starts with the first characters of the text"
    assert tick_labels(page, "hidden_heatmap") == [TICK.get(c, c) for c in probe]
    (trace,) = chart_traces(page, "hidden_heatmap")
    assert trace["type"] == "heatmap" and trace["n"] == len(probe)

    # Next-character bars: the ten likeliest characters, ten drawn bars.
    bars = drawn_marks(page, "prob_bars")
    assert bars["bars"] == 10, bars
    assert len(tick_labels(page, "prob_bars")) == 10

    assert_no_exception(page)
    assert_no_console_errors(page)


# --------------------------------------------------------------------------- 2. train
def test_train_advances_iteration_by_n_and_draws_the_loss(app_server, page):
    open_app(page, app_server)
    assert iteration(page) == 0
    n = 150
    set_number_input(page, "n_iters", n)
    click_button(page, "train")
    assert iteration(page) == n

    curves = loss_curves(page, n)
    assert len(curves) >= 2, f"want raw and smooth curves over 1..{n}: {chart_traces(page, 'loss_chart')}"
    # ...and the browser really drew them: line paths with (about) one vertex per iteration.
    assert max(drawn_marks(page, "loss_chart")["line_points"]) >= n // 2

    # A second click continues from there: exactly N more.
    click_button(page, "train")
    assert iteration(page) == 2 * n
    assert len(loss_curves(page, 2 * n)) >= 2
    assert as_number(read_metric(page, "Smooth loss (min-char-rnn)")) > 0
    assert_no_exception(page)
    assert_no_console_errors(page)


# --------------------------------------------------------------------------- 3. play / pause
def test_play_keeps_training_and_pause_stops_it(app_server, page):
    open_app(page, app_server)
    play = button(page, "play")
    expect(play).to_contain_text("Play")
    click_while_playing(page, "play")
    expect(play).to_contain_text("Pause")

    wait_for_runs(page, 1)          # Play ticks are fragment reruns every PLAY_INTERVAL_S
    first = iteration(page)
    wait_for_runs(page, 2)
    second = iteration(page)
    assert 0 < first < second, (first, second)
    assert loss_xmax(page) > 0
    save_screenshot(page, "test_play-playing")

    mark = page.st_runs.mark()
    click_button(page, "play")      # labelled Pause now; after its rerun no tick is left, so idle comes
    try:
        expect(play).to_contain_text("Play")
    except AssertionError as err:   # seen once in ~60 Play/Pause cycles: say what the websocket saw
        raise AssertionError(f"Pause did not take; since the click: {page.st_runs.events[mark:]}") from err
    expect(play).not_to_contain_text("Pause")
    paused, chart = iteration(page), loss_xmax(page)
    assert paused >= second
    mark = page.st_runs.mark()
    page.wait_for_timeout(1500)     # the observation window itself: nothing may happen in it
    assert page.st_runs.finishes_since(mark) == 0, "script runs kept coming after Pause"
    assert iteration(page) == paused
    assert loss_xmax(page) == chart
    # Pausing in the middle of a tick: the next test.
    assert_no_exception(page)
    assert_no_console_errors(page)


def test_pause_during_a_tick_leaves_readout_chart_and_model_consistent(app_server, page):
    """Click Pause while a Play tick is training (a person clicks at any moment).

    Streamlit (runner.fastReruns) starts the Pause click's full run on a new script thread while the
    tick's thread is still inside Trainer.step. Before the session's training lock (Session.lock in ui/session/session.py,
    commits a8c2b9d/eed4a7f) the page then showed a half-stepped trainer: the readout ahead of the
    loss chart, and training went on after the page said paused, so the next Train added more than
    n_iters. This caught it in about 5 runs of 6.
    """
    open_app(page, app_server)
    click_while_playing(page, "play")
    wait_for_runs(page, 1)          # after the first tick the ticks are sized to ~0.2 s of training
    tracker = page.st_runs
    mark = tracker.mark()
    wait_until(page, lambda: any(kind == "sent" and frag for kind, frag in tracker.events[mark:]), 5000)
    page.wait_for_timeout(60)       # the tick's script has started training
    click_button(page, "play")
    expect(button(page, "play")).to_contain_text("Play")
    paused = iteration(page)
    save_screenshot(page, "test_pause_during_tick-paused")
    assert loss_xmax(page) == paused, "the loss chart and the Iteration readout disagree right after Pause"
    n = int(widget(page, "n_iters").locator("input").first.input_value())
    click_button(page, "train")
    assert iteration(page) == paused + n, f"Train after Pause at {paused:,} should show {paused + n:,}"
    assert loss_xmax(page) == paused + n
    assert_no_exception(page)
    assert_no_console_errors(page)


# --------------------------------------------------------------------------- 4. upload
def test_upload_text_switches_vocabulary_and_png_is_refused(app_server, page, tmp_path):
    open_app(page, app_server)
    assert int(read_metric(page, "Vocabulary")) > 5

    text = "abc cab bca\nab ba ca cc\n" * 40
    path = tmp_path / "abc.txt"
    path.write_text(text, encoding="utf-8")
    upload_file(page, "upload", path.name, path.read_bytes())
    vocab = sorted(set(text))  # ['\n', ' ', 'a', 'b', 'c']

    expect(sidebar(page).get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"New run on abc.txt: {len(text):,} characters, {len(vocab)} distinct.")
    assert read_metric(page, "Vocabulary") == str(len(vocab))
    assert read_metric(page, "Characters") == f"{len(text):,}"
    assert iteration(page) == 0
    expect(widget(page, "corpus").locator("input")).to_have_value("abc.txt (uploaded)")
    # The charts now read the new text: heatmap columns are its characters, bars its vocabulary.
    probe = widget(page, "probe_text").locator("textarea").input_value()
    assert probe and text.startswith(probe)
    assert tick_labels(page, "hidden_heatmap") == [TICK.get(c, c) for c in probe]
    assert sorted(tick_labels(page, "prob_bars")) == sorted(LABEL.get(c, c) for c in vocab)
    assert drawn_marks(page, "prob_bars")["bars"] == len(vocab)

    click_button(page, "train")     # the default n_iters: the run to keep intact below has some history
    trained = iteration(page)
    assert trained > 0
    before = {label: read_metric(page, label) for label in ("Iteration", "Smooth loss (min-char-rnn)", "Vocabulary", "Characters")}

    # A PNG with its own name: the uploader itself refuses the type (no rerun reaches the app).
    png = tiny_png()
    file_input = widget(page, "upload").locator("input[type='file']")
    with expect_rerun(page, start_timeout=500):
        file_input.set_input_files(files=[{"name": "picture.png", "mimeType": "image/png", "buffer": png}])
    expect(widget(page, "upload")).to_contain_text("image/png files are not allowed")
    assert {label: read_metric(page, label) for label in before} == before

    # A PNG renamed .txt gets past the uploader: the app's own check refuses it with a visible error.
    upload_file(page, "upload", "picture.txt", png)
    error = sidebar(page).get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Could not use picture.txt")
    expect(error).to_contain_text("PNG image")
    expect(error).to_contain_text("The current run is unchanged")
    assert {label: read_metric(page, label) for label in before} == before
    assert sorted(tick_labels(page, "prob_bars")) == sorted(LABEL.get(c, c) for c in vocab)
    assert loss_xmax(page) == trained
    expect(widget(page, "corpus").locator("input")).to_have_value("abc.txt (uploaded)")
    assert_no_exception(page)
    assert_no_console_errors(page)


# --------------------------------------------------------------------------- 5. sampling
def test_generate_shows_seed_then_requested_length(app_server, page):
    from assets.corpora import read_corpus  # a local run with the page's defaults is the oracle
    from rnn_core import Trainer
    from ui.session.state import sample_with_widgets
    from ui.session.widgets import WIDGET_DEFAULTS, config_from_widgets

    open_app(page, app_server)
    seed_char, temperature, length = "e", 0.5, 60
    select_option(page, "seed_char", seed_char)
    set_slider(page, "temperature", temperature)
    set_number_input(page, "sample_length", length)
    click_button(page, "generate")

    box, caption = sample_box(page)
    expect(box).to_be_visible()
    shown = box.locator("code").text_content()
    assert shown.startswith(seed_char), shown
    assert len(shown) == length + 1, (len(shown), shown)
    expect(caption).to_contain_text(f"The first character (‘{seed_char}’) is the seed; the {length} after it")

    # The download carries exactly the displayed text.
    with page.expect_download() as download:
        button(page, "download_sample").click()
    assert download.value.path().read_text(encoding="utf-8") == shown

    # Same settings on a local run with the page's defaults (the page's run lives in a worker) give the same
    # text: the seed character, temperature and length really reached the worker's sampler.
    ss = {**WIDGET_DEFAULTS, "seed_char": seed_char, "temperature": temperature, "sample_length": length}
    local = Trainer(read_corpus(ss["corpus"]), config_from_widgets(ss))
    assert shown == seed_char + sample_with_widgets(ss, local, seed_char)
    assert_no_exception(page)
    assert_no_console_errors(page)


# --------------------------------------------------------------------------- 6. two visitors
def test_two_contexts_train_independently(app_server, new_page):
    a, b = new_page(), new_page()
    # Everything below happens in both pages at once: each `with` waits for its own page's rerun.
    with expect_rerun(a, 60000, start_timeout=60000), expect_rerun(b, 60000, start_timeout=60000):
        a.goto(app_server + "/", wait_until="commit")
        b.goto(app_server + "/", wait_until="commit")
    assert iteration(a) == iteration(b) == 0
    with expect_rerun(a), expect_rerun(b):
        for p, n in ((a, 50), (b, 120)):
            box = widget(p, "n_iters").locator("input").first
            box.fill(str(n))
            box.press("Enter")
    with expect_rerun(a), expect_rerun(b):   # both sessions train at the same time on the one server
        button(a, "train").click()
        button(b, "train").click()
    assert (iteration(a), iteration(b)) == (50, 120)
    assert (loss_xmax(a), loss_xmax(b)) == (50, 120)

    with expect_rerun(a), expect_rerun(b):   # and again: each goes on from its own count
        button(a, "train").click()
        button(b, "train").click()
    assert (iteration(a), iteration(b)) == (100, 240)
    assert (loss_xmax(a), loss_xmax(b)) == (100, 240)
    for p in (a, b):
        assert_no_exception(p)
        assert_no_console_errors(p)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
