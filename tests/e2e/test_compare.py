"""Compare mode in a real browser: RNN vs LSTM vs GRU, trained together, curves and samples side by side.

The screenshot `view-compare.png` (in $E2E_SCREENSHOT_DIR) is the one in docs/screenshots/.
"""
from __future__ import annotations

from playwright.sync_api import expect

from .helpers import (
    as_number, assert_no_console_errors, assert_no_exception, click_button, open_app, plotly_charts,
    save_screenshot, set_number_input, widget,
)

N = 200
NAMES = ["RNN H=100", "LSTM H=100", "GRU H=100"]


def test_compare_cells_side_by_side(app_server, page):
    open_app(page, app_server)
    page.get_by_text("Compare runs: RNN vs LSTM vs GRU").click()  # the expander
    expect(widget(page, "compare_cells")).to_be_visible()
    save_screenshot(page, "view-compare-start")
    click_button(page, "compare_cells")
    panel = widget(page, "compare_panel")
    expect(panel).to_contain_text("Comparing 3 runs")
    set_number_input(page, "n_iters", N)
    click_button(page, "train", timeout=60000)

    # one card per run, all at the same iteration
    cards = [widget(page, f"run_card_{i}") for i in range(3)]
    for card, name in zip(cards, NAMES):
        expect(card).to_contain_text(name)
        value = card.get_by_test_id("stMetricValue").first.inner_text()
        assert as_number(value) == N, (name, value)

    # the loss chart: one smooth curve per run, named, each reaching iteration N, and a legend entry each
    plot = plotly_charts(page, "loss_chart")
    traces = plot.evaluate("""d => d._fullData.map(t => ({name: t.name, n: t.x ? t.x.length : 0,
                                                          xmax: t.x && t.x.length ? Number(t.x[t.x.length - 1]) : null}))""")
    smooth = {t["name"]: t for t in traces if t["name"] in NAMES}
    assert sorted(smooth) == sorted(NAMES), traces
    assert all(t["xmax"] == N and t["n"] > 1 for t in smooth.values()), smooth
    legend = plot.locator(".legend .legendtext").all_text_contents()
    assert all(name in legend for name in NAMES), legend

    # one sample per run, side by side (same row, left to right)
    click_button(page, "generate")
    samples = page.get_by_test_id("stCode").filter(has_not_text="Iteration")
    boxes = []
    for name in NAMES:
        label = page.get_by_text(name, exact=True).last
        expect(label).to_be_visible()
        boxes.append(label.bounding_box())
    ys = [b["y"] for b in boxes]
    xs = [b["x"] for b in boxes]
    assert max(ys) - min(ys) < 5 and xs == sorted(xs) and len(set(xs)) == 3, boxes
    assert samples.count() >= 3
    assert_no_exception(page)
    assert_no_console_errors(page)
    page.mouse.move(0, 0)  # no tooltip in the picture
    page.wait_for_timeout(300)
    print(f"screenshot: {save_screenshot(page, 'view-compare')}")
