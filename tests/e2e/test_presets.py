"""The training presets in a real browser: switch to min-char-rnn, Reset, and the run caption follows."""
from __future__ import annotations

from playwright.sync_api import expect

from .helpers import (
    assert_no_console_errors, assert_no_exception, click_button, expect_rerun, open_app, read_metric, save_screenshot,
    set_number_input, widget,
)


def run_caption(page):
    return page.get_by_test_id("stCaptionContainer").filter(has_text="Text:").first


def test_switching_to_min_char_rnn_and_resetting_changes_the_caption(app_server, page):
    open_app(page, app_server)
    expect(run_caption(page)).to_contain_text("32 streams read the text in parallel, one update per 32 windows")
    expect(run_caption(page)).to_contain_text("Settings: fast preset")
    set_number_input(page, "n_iters", 20)
    click_button(page, "train")
    speed = page.get_by_test_id("stMetric").filter(has_text="Speed")
    expect(speed.get_by_test_id("stMetricDelta")).to_contain_text("chars/s")
    with expect_rerun(page):
        widget(page, "settings_preset").get_by_role("radio", name="min-char-rnn, exactly", exact=True).click()
    expect(page.get_by_text("These apply when you press Reset & apply")).to_be_visible()
    expect(widget(page, "batch_size").locator("input").first).to_have_value("1")
    expect(run_caption(page)).to_contain_text("Settings: custom settings")  # the optimizer applied, streams wait
    click_button(page, "reset")
    expect(run_caption(page)).to_contain_text("one stream reads the text, one update per window of 25 characters")
    expect(run_caption(page)).to_contain_text("Settings: min-char-rnn exactly")
    assert read_metric(page, "Iteration") == "0"
    expect(widget(page, "reset").get_by_role("button", name="Reset", exact=True)).to_be_visible()  # nothing pending
    save_screenshot(page, "presets-min-char-rnn")
    assert_no_exception(page)
    assert_no_console_errors(page)
