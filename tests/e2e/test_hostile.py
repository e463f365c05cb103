"""Hostile file names in a real browser: shown as the literal text, never turned into images, links or formatting.

Every name is uploaded as a training text; the page must show it as typed (run caption, selector,
notice, saved-runs list) and the DOM must hold no <img>, <a> or emphasis made from it, and the
browser must never ask for the address one of them names.
"""
from __future__ import annotations

from playwright.sync_api import expect

from .helpers import (
    assert_no_console_errors, assert_no_exception, click_button, open_app, upload_file, widget,
)

NAMES = [
    "![t](http://127.0.0.1:9/t.png).txt",
    "<img src=x onerror=alert(1)>.txt",
    "[click](javascript:alert(1)).txt",
    "**bold**_x_.txt",
    "mail me@example.com or www.example.com.txt",
]
TEXT = ("the cat sat on the mat, the dog sat on the log. " * 12).encode()
MADE_FROM_NAMES = ("img[src*='127.0.0.1'], img[src='x'], a[href*='127.0.0.1'], a[href^='javascript'], "
                   "a[href*='example.com'], a[href^='mailto'], "
                   "[data-testid='stMarkdownContainer'] strong:text-is('bold'), "
                   "[data-testid='stMarkdownContainer'] em:text-is('x')")


def test_hostile_file_names_are_shown_as_text(app_server, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (requests.append(f"dialog: {d.message}"), d.dismiss()))
    open_app(page, app_server)
    for name in NAMES:
        upload_file(page, "upload", name, TEXT)
        caption = page.get_by_test_id("stCaptionContainer").filter(has_text="Text:").first
        expect(caption).to_contain_text(f"{name} (uploaded)")
        expect(widget(page, "corpus").locator("input[role='combobox']")).to_have_value(f"{name} (uploaded)")
        expect(page.get_by_test_id("stSidebar").get_by_test_id("stAlertContentSuccess")).to_contain_text(
            f"New run on {name}:")
        click_button(page, "train")                       # saved: the sidebar lists it under its name
        expect(page.get_by_test_id("stSidebar").get_by_text(f"{name} (uploaded)", exact=True)).to_have_count(1)
        expect(page.locator(MADE_FROM_NAMES)).to_have_count(0)
        assert_no_exception(page)
    assert not [u for u in requests if "127.0.0.1:9" in u or u.startswith("javascript") or u.startswith("dialog")]
    assert_no_console_errors(page)
