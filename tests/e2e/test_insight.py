"""Every insight view in a real browser, after some training with a held-out part of the text.

Saves one picture per view into $E2E_SCREENSHOT_DIR (view-*.png; the README's docs/screenshots/
come from here: `E2E_SCREENSHOT_DIR=docs/screenshots pytest tests/e2e/test_insight.py`).
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import (
    as_number, assert_no_console_errors, assert_no_exception, click_button, expect_rerun, open_app,
    read_metric, save_screenshot, screenshot_dir, set_number_input, set_slider, widget,
)

TRAIN_CLICKS = 3
ITERS_PER_CLICK = 1500


def shoot(page, locator, name: str, max_height: int = 1400) -> None:
    """Save `locator` (its top `max_height` px) as <screenshot_dir>/<name>.png.

    The page scrolls inside stMain, so a view taller than the window would come out half blank:
    grow the window to fit it first.
    """
    page.mouse.move(0, 0)  # no hover label in the picture
    size = page.viewport_size
    full = locator.bounding_box()["height"]
    height = min(full, max_height)
    if full + 160 > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": int(min(full, 4000) + 160)})
    try:
        locator.evaluate("el => el.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(300)  # Plotly redraws after a resize
        box = locator.bounding_box()
        page.screenshot(path=str(screenshot_dir() / f"{name}.png"), animations="disabled",
                        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": height})
    finally:
        page.set_viewport_size(size)


def show_view(page, title: str):
    """Pick a view in the segmented control; return the view's container."""
    button = widget(page, "look_inside").get_by_role("radio", name=title, exact=True)
    with expect_rerun(page):
        button.click()
    return widget(page, "look_inside_view")


def unit_of_bar(chart, bar) -> int:
    """The unit named by the y tick label level with `bar` ("feature · unit N")."""
    y = (lambda b: b["y"] + b["height"] / 2)(bar.bounding_box())
    ticks = chart.locator(".ytick text")
    label = min((ticks.nth(i) for i in range(ticks.count())),
                key=lambda t: abs((lambda b: b["y"] + b["height"] / 2)(t.bounding_box()) - y)).text_content()
    return int(re.search(r"unit (\d+)", label).group(1))


def test_every_insight_view_shows_real_values(app_server, page):
    open_app(page, app_server)
    with expect_rerun(page):
        widget(page, "hold_out").get_by_role("checkbox").check(force=True)
    click_button(page, "reset")
    set_number_input(page, "n_iters", ITERS_PER_CLICK)
    for _ in range(TRAIN_CLICKS):
        click_button(page, "train")
    assert read_metric(page, "Iteration") == f"{TRAIN_CLICKS * ITERS_PER_CLICK:,}"
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no tooltip of the Train button
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    save_screenshot(page, "page")  # the README's picture of the whole page

    # Baselines and held-out loss on the loss chart.
    loss = widget(page, "loss_chart")
    legend = loss.locator(".legendtext")
    for name in ("uniform guess", "unigram", "bigram", "trigram", "held-out"):
        expect(legend.filter(has_text=re.compile(f"^{name}$"))).to_have_count(1)
    shoot(page, loss, "view-baselines")

    # Neuron explorer: clicking a bar of the ranking selects that unit.
    view = show_view(page, "Neuron explorer")
    bars = widget(page, "unit_ranking").locator("g.point")
    expect(bars.first).to_be_visible()
    widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
    bar = bars.nth(widths.index(max(widths)))  # the unit with the strongest correlation
    unit = unit_of_bar(widget(page, "unit_ranking"), bar)
    with expect_rerun(page):
        bar.click(force=True)
    box = widget(page, "neuron").locator("input")
    expect(box).to_have_value(str(unit))
    expect(view.get_by_text(f"Unit {unit}", exact=False).first).to_be_visible()
    expect(view.locator(f"span[title*='unit {unit} = ']").first).to_be_attached()
    shoot(page, view, "view-neuron")

    # Surprise strip: every predicted character has a tooltip with the model's guesses.
    view = show_view(page, "Surprise")
    expect(view.locator("span[title*='guesses:']").first).to_be_attached()
    assert 0 < as_number(read_metric(page, "Mean surprise")) < 8
    shoot(page, view, "view-surprise")

    # Gradient flow: one bar per step of the window (T = 25).
    view = show_view(page, "Gradient flow")
    expect(widget(page, "grad_flow").locator("g.point")).to_have_count(25)
    expect(widget(page, "clipped_share").locator(".js-plotly-plot")).to_have_count(1)
    shoot(page, view, "view-gradient-flow")

    # Microscope: a chosen character, p(target) before and after one update.
    view = show_view(page, "Microscope: one step")
    set_slider(page, "micro_pos", 3)
    before = as_number(read_metric(page, "p(target) before"))
    after = as_number(read_metric(page, "p(target) after one step"))
    assert 0 < before < 1 and 0 < after < 1 and after > before
    shoot(page, view, "view-microscope")

    # Samples over time: replay an early sample.
    view = show_view(page, "Samples over time")
    slider = widget(page, "sample_replay")
    expect(slider).to_be_visible()
    thumb = slider.get_by_role("slider")
    with expect_rerun(page):
        thumb.focus()
        thumb.press("Home")
    expect(view.get_by_text("sample at iteration 100", exact=True)).to_be_visible()
    shoot(page, view, "view-samples", max_height=560)

    assert_no_exception(page)
    assert_no_console_errors(page)
