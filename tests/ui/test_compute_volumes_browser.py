"""The volume pages in Debian's Chromium: create a volume, attach it to a server from the volume
page, see it in the server page's card (loaded by htmx), detach it there, delete it with its
confirmation. The cluster is the in-memory fake; jobs run as they are enqueued."""

from __future__ import annotations

import os

import pytest

from tests.factories import PASSWORD
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytest_plugins = ["tests.ui.compute_fixtures"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]


@pytest.fixture
def ready(transactional_db, carol, inline_jobs, boot) -> tuple[str, str]:
    """Carol's user name and the id of her ACTIVE server `web`."""
    server = boot("web")
    return carol.name, str(server.pk)


def test_volume_pages_create_attach_detach_delete_when_driven_in_chromium(live_server, ready):
    playwright_api = pytest.importorskip("playwright.sync_api")
    base = live_server.url
    username, server_id = ready
    # No ORM calls below: Playwright's sync API runs an event loop in this thread.
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        js_errors: list[str] = []
        try:
            page = browser.new_context().new_page()
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

            page.click("#compute-menu > a")
            page.click("#compute-menu >> text=Volumes")
            page.wait_for_url(f"{base}/cloud/volumes/")
            assert "No volumes yet." in page.inner_text("#volumes")
            page.click("#new-volume")
            page.fill("#id_name", "data")
            page.fill("#id_size", "2")
            page.click("#volume-create-form button[type=submit]")
            page.locator("#messages", has_text="Volume data was created.").wait_for()
            assert page.inner_text("#volume-panel .volume-status") == "available"

            page.click("#attach-form button[type=submit]")
            page.locator("#messages", has_text="is being attached to web").wait_for()
            assert page.inner_text("#volume-panel .volume-status") == "in-use"

            page.goto(f"{base}/cloud/servers/{server_id}/")
            card = page.locator("#server-volumes .server-volume", has_text="data")
            card.wait_for()  # the card arrives through htmx after the page loaded
            assert "/dev/vdb" in card.inner_text()
            card.get_by_role("button", name="Detach").click()
            page.wait_for_url(f"{base}/cloud/servers/{server_id}/")
            page.locator("#server-volumes", has_text="No volumes attached.").wait_for()

            page.goto(f"{base}/cloud/volumes/")
            page.locator("tr.volume-row", has_text="data").get_by_role("link", name="data").click()
            assert page.inner_text("#volume-panel .volume-status") == "available"
            page.click("#delete-button")
            page.wait_for_url(f"{base}/cloud/volumes/")
            assert "No volumes yet." in page.inner_text("#volumes")
        finally:
            browser.close()
    assert js_errors == []
