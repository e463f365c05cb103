"""Saved runs and share links in a real browser: a reload keeps the run; a settings link fills the widgets."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from .helpers import (
    assert_no_console_errors, assert_no_exception, click_button, expect_rerun, open_app, read_metric, widget,
)


def _query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_reload_restores_the_trained_run(app_server, page):
    open_app(page, app_server)
    expect(page).to_have_url(re.compile(r"[?&]ws=[0-9a-f]{24}"))
    click_button(page, "train")  # 100 iterations
    assert read_metric(page, "Iteration") == "100"
    expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]{12}"))
    before = _query(page)
    with expect_rerun(page, 60000, start_timeout=60000):
        page.reload(wait_until="domcontentloaded")
    assert read_metric(page, "Iteration") == "100"
    assert _query(page)["run"] == before["run"] and _query(page)["ws"] == before["ws"]
    expect(page.get_by_text("Reopened saved run")).to_be_visible()
    expect(page.get_by_text("Your saved runs (1)")).to_be_visible()
    assert_no_exception(page)
    assert_no_console_errors(page)


def test_settings_link_fills_the_widgets(app_server, page):
    open_app(page, app_server, "corpus=hello+world&hidden_size=16&seq_length=10&seed=3"
                               "&optimizer=adam&learning_rate=0.005&clip=none")
    expect(widget(page, "hidden_size").locator("input")).to_have_value("16")
    expect(widget(page, "seq_length").locator("input")).to_have_value("10")
    expect(widget(page, "seed").locator("input")).to_have_value("3")
    expect(widget(page, "learning_rate").locator("input")).to_have_value("0.005")
    expect(widget(page, "clip").locator("input")).to_have_value("0")
    expect(widget(page, "optimizer").locator("input[role='combobox']")).to_have_value("Adam")
    expect(widget(page, "corpus").locator("input[role='combobox']")).to_have_value("hello world")
    q = _query(page)
    assert q["hidden_size"] == "16" and q["corpus"] == "hello world" and "ws" in q and "run" not in q
    assert_no_exception(page)
    assert_no_console_errors(page)
