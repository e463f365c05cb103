"""First load of the page in a real browser."""
from playwright.sync_api import expect

from .helpers import assert_no_console_errors, assert_no_exception, open_app


def test_first_load_shows_title_without_errors(app_server, page):
    open_app(page, app_server)
    expect(page.get_by_role("heading", name="Char-RNN Playground")).to_be_visible()
    expect(page).to_have_title("Char-RNN Playground")
    assert_no_exception(page)
    assert_no_console_errors(page)
