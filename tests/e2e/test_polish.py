"""Learner polish in a real browser: plain words, one run per text, uploads, limits, progress, the loss line."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from rnn_core import limits
from ui.panels.look_inside import VIEWS

from .helpers import (
    as_number, assert_no_console_errors, assert_no_exception, click_button, expect_rerun, open_app, read_metric,
    save_screenshot, select_option, set_number_input, upload_file, wait_idle, widget,
)
from .test_layout import show_view

SMOOTH = "Smooth loss (min-char-rnn)"
FORBIDDEN = re.compile(r"notebook|\bseeds\b|\bseeds? 0\d\d\b|\bissues?\b|\.py\b|\bTrainer\b|rnn_core|"
                       "[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F]", re.IGNORECASE)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def page_text(page) -> str:
    """What a person can read: the visible text plus every help tooltip's words (aria labels, titles)."""
    text = page.locator("[data-testid='stApp']").inner_text()
    extra = page.evaluate("""() => [...document.querySelectorAll('[aria-label], [title]')]
        .map(e => (e.getAttribute('aria-label') || '') + ' ' + (e.getAttribute('title') || '')).join('\\n')""")
    return text + "\n" + extra


def uploaded_names(page, key: str) -> list[str]:
    return page.locator(f"[class*='st-key-{key}'] [data-testid='stFileChipName']").all_inner_texts()


def test_every_view_speaks_plain_words(app_server, page):
    open_app(page, app_server)
    set_number_input(page, "n_iters", 200)
    click_button(page, "train")
    assert "min-char-rnn" in page_text(page) and "one character at a time" in page_text(page)
    for title, _ in VIEWS:
        show_view(page, title)
        text = page_text(page)
        assert title in text
        assert not FORBIDDEN.findall(text), (title, FORBIDDEN.findall(text))
    assert_no_exception(page)


def test_switching_texts_keeps_one_run_per_text(app_server, page):
    open_app(page, app_server)
    set_number_input(page, "n_iters", 150)
    click_button(page, "train")
    prose_loss = read_metric(page, SMOOTH)
    prose_url = page.url
    select_option(page, "corpus", "hello world")
    assert read_metric(page, "Iteration") == "0"
    click_button(page, "train")
    assert read_metric(page, "Iteration") == "150"
    select_option(page, "corpus", "prose")
    assert read_metric(page, "Iteration") == "150" and read_metric(page, SMOOTH) == prose_loss
    expect(page.get_by_text("Back to your run on “prose”, at iteration 150.")).to_be_visible()
    assert re.search(r"run=([0-9a-f]+)", page.url).group(1) == re.search(r"run=([0-9a-f]+)", prose_url).group(1)
    saved = page.get_by_test_id("stSidebar")
    saved.get_by_text(re.compile(r"^Your saved runs")).click()
    lines = saved.get_by_test_id("stMarkdownContainer").filter(has_text="iteration 150").all_inner_texts()
    assert any(line.startswith("prose") for line in lines) and any(line.startswith("hello world") for line in lines)
    save_screenshot(page, "polish-runs-by-text")
    assert_no_console_errors(page)


def test_uploads_show_the_file_in_use_and_a_refused_one_is_taken_out(app_server, page):
    open_app(page, app_server)
    upload_file(page, "upload", "cats.txt", ("the cat sat on the mat. " * 40).encode())
    assert uploaded_names(page, "upload") == ["cats.txt"]
    expect(page.get_by_text("This run came from your file cats.txt.")).to_be_visible()
    upload_file(page, "upload", "picture.txt", PNG)
    error = page.get_by_test_id("stAlert").filter(has_text="Could not use picture.txt")
    expect(error).to_be_visible()
    expect(error).to_contain_text("taken out of the box")
    assert uploaded_names(page, "upload") == []  # the refused file is not listed as if it were in use
    select_option(page, "corpus", "prose")
    assert uploaded_names(page, "upload") == []
    expect(page.get_by_text("📄")).to_have_count(0)
    assert "💾" not in page_text(page) and "📄" not in page_text(page)
    save_screenshot(page, "polish-uploads")
    assert_no_exception(page)


def test_too_many_iterations_are_said_and_nothing_else_runs(app_server, page):
    open_app(page, app_server)
    set_number_input(page, "n_iters", 20_000)
    box = widget(page, "n_iters").locator("input").first
    expect(box).to_have_value(f"{limits.MAX_ITERS_PER_CLICK}")
    expect(page.get_by_test_id("stAlert").filter(
        has_text="One Train click runs at most 10,000 iterations; 20,000 was typed, so the box now says 10,000")
    ).to_be_visible()
    set_number_input(page, "hidden_size", 900)
    expect(page.get_by_text("Hidden units: at most 512; 900 was typed, so the box now says 512.")).to_be_visible()
    expect(widget(page, "hidden_size").locator("input").first).to_have_value("512")
    assert_no_exception(page)


def test_a_click_of_more_than_a_second_shows_progress(app_server, page):
    open_app(page, app_server)
    set_number_input(page, "n_iters", 300)
    click_button(page, "train")  # measures the speed
    rate = as_number(read_metric(page, "Speed"))
    n = min(limits.MAX_ITERS_PER_CLICK, max(int(rate * 2.5), 100))  # about 2.5 s at the measured speed
    set_number_input(page, "n_iters", n)
    with expect_rerun(page, timeout=120_000):
        widget(page, "train").locator("button").first.click()
        bar = page.get_by_test_id("stProgress")
        expect(bar).to_be_visible(timeout=10_000)
        expect(bar).to_contain_text("Training")
    wait_idle(page)
    assert read_metric(page, "Iteration") == f"{300 + n:,}"
    expect(page.get_by_test_id("stProgress")).to_have_count(0)


def test_the_bold_line_follows_the_raw_loss_on_hello_world(app_server, page):
    open_app(page, app_server)
    select_option(page, "corpus", "hello world")
    set_number_input(page, "n_iters", 400)
    click_button(page, "train")
    spec = page.evaluate("""() => {
        const el = document.querySelector('.st-key-loss_chart .js-plotly-plot');
        return el._fullData.filter(t => t.name === 'training loss' || t.name === 'training loss (raw)')
                      .map(t => ({name: t.name, y: Array.from(t.y)}));
    }""")
    bold = next(t["y"] for t in spec if t["name"] == "training loss")
    raw = next(t["y"] for t in spec if t["name"] == "training loss (raw)")
    assert bold[-1] < 2 and abs(bold[-1] - sum(raw[-20:]) / 20) < 1  # where the model is now...
    assert as_number(read_metric(page, SMOOTH)) > 20                   # ...while min-char-rnn's average lags
    widget(page, "loss_chart").scroll_into_view_if_needed()
    save_screenshot(page, "polish-hello-world-loss")
