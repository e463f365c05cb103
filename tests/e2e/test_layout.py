"""Whole labels on a laptop: at 1024, 1280 and 1440 px wide, sidebar open or closed, nothing is cut.

An element cuts its text when it clips overflow (overflow hidden/clip/auto, or an ellipsis) and its
content is wider than its box: scrollWidth > clientWidth. The check runs over every button, metric
label, value and delta, widget label, caption, markdown, expander and radio/segmented option of the
main area and the sidebar, in each look-inside view and in compare mode; it leaves alone what is meant
to scroll (code boxes, the text area, charts, the coloured-text strips). Screenshots of every state
are saved as layout-<width>-<state>.png.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ui.panels.look_inside import VIEWS

from .helpers import (
    assert_no_console_errors, assert_no_exception, click_button, expect_rerun, open_app, read_metric,
    save_screenshot, set_number_input, upload_file, wait_idle, widget,
)

WIDTHS = (1024, 1280, 1440)
# A text of ~205,000 characters: the sidebar's "Characters" readout is as wide as it gets for a real upload.
BIG_TEXT = ("The quick brown fox jumps over the lazy dog; " * 4560).encode()

CUT_OFF_JS = """() => {
  const watched = [
    "button", "[data-testid='stMetricLabel']", "[data-testid='stMetricValue']", "[data-testid='stMetricDelta']",
    "[data-testid='stWidgetLabel']", "[data-testid='stCaptionContainer']", "[data-testid='stMarkdownContainer']",
    "[data-testid='stExpander'] summary", "[data-testid='stRadio'] label", "[data-testid='stAlert']",
    "[data-testid='stFileChipName']", "[data-testid='stSelectbox'] [role='combobox']",
    "[data-testid='stHeading']", "[data-testid='stSliderThumbValue']", "[data-testid='stSliderTickBar']"];
  const meantToScroll = "pre, code, textarea, .js-plotly-plot, [data-testid='stHtml'], [data-testid='stCode'], " +
                        "[data-testid='stExpanderDetails'] [data-testid='stMarkdownContainer']";
  // A collapsed sidebar is parked off screen at a sliver of its width: not what a person reads.
  const sidebarClosed = !!document.querySelector("[data-testid='stExpandSidebarButton']");
  const seen = new Set(), cut = [];
  for (const root of document.querySelectorAll(watched.join(","))) {
    for (const el of [root, ...root.querySelectorAll("*")]) {
      if (seen.has(el)) continue;
      seen.add(el);
      if (el.closest(meantToScroll) || !el.getClientRects().length) continue;
      if (el.clientWidth <= 2) continue;  // screen-reader-only text ("add icon"), 1 px wide on purpose
      if (sidebarClosed && el.closest("[data-testid='stSidebar']")) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === "hidden") continue;
      const clips = cs.overflowX !== "visible" || cs.textOverflow === "ellipsis";
      if (clips && el.scrollWidth > el.clientWidth + 1) {
        const text = (el.innerText || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " ");
        if (!text) continue;
        cut.push(`${el.tagName.toLowerCase()}[${el.getAttribute("data-testid") || el.className || ""}] ` +
                 `"${text.slice(0, 80)}" needs ${el.scrollWidth}px, has ${el.clientWidth}px`);
      }
    }
  }
  return cut;
}"""


def cut_offs(page) -> list[str]:
    page.mouse.move(0, 0)
    return page.evaluate(CUT_OFF_JS)


def set_sidebar(page, open_: bool) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    expand = page.get_by_test_id("stExpandSidebarButton")
    if (expand.count() == 0) == open_:
        return
    if open_:
        # The expand button shows on hover of the header, which the main area covers: click it directly.
        page.get_by_test_id("stExpandSidebarButton").dispatch_event("click")
    else:
        sidebar.hover()
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    expect(expand).to_have_count(0 if open_ else 1)
    page.wait_for_timeout(400)  # the slide animation; the columns re-measure after it


def show_view(page, title: str) -> None:
    with expect_rerun(page):
        widget(page, "look_inside").get_by_role("radio", name=title, exact=True).click()


def check(page, width: int, state: str, problems: dict) -> None:
    wait_idle(page)
    assert_no_exception(page)
    found = cut_offs(page)
    if found:
        problems[f"{width} px, {state}"] = found
    save_screenshot(page, f"layout-{width}-{state}")


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_cut_at_laptop_widths(app_server, new_page, width):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    open_app(page, app_server)
    upload_file(page, "upload", "fox.txt", BIG_TEXT)
    assert read_metric(page, "Characters") == f"{len(BIG_TEXT):,}"
    set_number_input(page, "n_iters", 300)
    click_button(page, "train")
    problems: dict[str, list[str]] = {}
    for title, _ in VIEWS:  # sidebar open: the narrowest main area
        show_view(page, title)
        check(page, width, f"open-{title.split(':')[0].split(' ')[0].lower()}", problems)
    set_sidebar(page, False)
    check(page, width, "closed", problems)
    page.get_by_text("Compare runs: RNN vs LSTM vs GRU").click()  # the starters sit in a closed expander
    check(page, width, "closed-starters", problems)
    click_button(page, "compare_cells")
    check(page, width, "closed-compare", problems)
    set_sidebar(page, True)
    check(page, width, "open-compare", problems)
    assert not problems, "cut off:\n" + "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in problems.items())
    assert_no_exception(page)
    assert_no_console_errors(page)
