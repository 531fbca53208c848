"""End to end in Debian's Chromium: sign in, create a server through the wizard (watching the quota
impact follow the count and a new 1 GiB volume, seen attached on the server page once ACTIVE), see
it ACTIVE in the servers list, stop it from its page, start it, open its console page (noVNC's
status badge), delete it and see it gone, and upload an image file through the page's upload script.

The cluster is the in-memory fake behind backend_ganeti and its jobs run as they are enqueued, in
the live server's thread (the test database lives in this process).
"""

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
def ready(transactional_db, carol, flavors, image, network, cluster, inline_jobs) -> str:
    """Carol's user name, once her project has a network, flavors, an image and a cluster."""
    return carol.name


def test_wizard_creates_server_seen_active_in_list_when_driven_in_chromium(live_server, ready):
    playwright_api = pytest.importorskip("playwright.sync_api")
    base = live_server.url
    # No ORM calls below: Playwright's sync API runs an event loop in this thread.
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        js_errors: list[str] = []
        try:
            page = browser.new_context().new_page()
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", ready)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

            page.click("#compute-menu > a")
            page.click("#compute-menu >> text=Servers")
            page.wait_for_url(f"{base}/cloud/servers/")
            assert "No servers yet." in page.inner_text("#servers")
            page.click("#new-server")
            page.wait_for_url(f"{base}/cloud/servers/new/")
            assert "1 \u00d7 m1.tiny" in page.inner_text("#quota-impact")

            page.fill("#id_name", "browser-vm")
            page.fill("#id_count", "3")
            page.dispatch_event("#id_count", "change")
            page.locator("#quota-impact", has_text="3 \u00d7 m1.tiny").wait_for()
            assert "0 + 3 of 10" in page.inner_text(".quota-impact[data-resource='compute.servers']")
            page.fill("#id_count", "1")
            page.dispatch_event("#id_count", "change")
            page.locator("#quota-impact", has_text="1 \u00d7 m1.tiny").wait_for()
            page.fill("#id_vol-size_0", "1")  # the Volumes step: one new 1 GiB volume
            page.fill("#id_vol-name_0", "browser-data")
            page.dispatch_event("#id_vol-size_0", "change")
            page.locator("#quota-impact", has_text="+ 1 new volume (1 GiB)").wait_for()
            assert "0 + 1 of 10" in page.inner_text(".quota-impact[data-resource='volume.volumes']")
            page.click("#create-server")
            page.locator("#messages", has_text="Building browser-vm").wait_for()
            assert page.inner_text("#server-panel .server-status") == "ACTIVE"
            attached = page.locator("#server-volumes .server-volume", has_text="browser-data")
            attached.wait_for()  # the card arrives through htmx; the volume was attached once ACTIVE
            assert "/dev/vdb" in attached.inner_text() and "in-use" in attached.inner_text()
            assert page.locator("#console-link").get_attribute("target") == "_blank"

            page.goto(f"{base}/cloud/servers/")
            row = page.locator("tr.server-row", has_text="browser-vm")
            assert row.locator(".server-status").inner_text() == "ACTIVE"
            assert "10.10.0." in row.inner_text()
            assert page.locator("#results").get_attribute("data-polling") == "false"

            row.get_by_role("link", name="browser-vm").click()
            page.get_by_role("button", name="Stop").click()
            page.locator("#messages", has_text="Stop: browser-vm").wait_for()
            assert page.inner_text("#server-panel .server-status") == "SHUTOFF"
            assert page.locator("#console-link").count() == 0  # no console while stopped

            page.get_by_role("button", name="Start").click()
            page.locator("#messages", has_text="Start: browser-vm").wait_for()
            assert page.inner_text("#server-panel .server-status") == "ACTIVE"
            with page.context.expect_page() as opened:
                page.click("#console-link")
            console = opened.value
            console.wait_for_load_state()
            assert "/compute/console?token=" in console.url
            status = console.locator("#console-status")
            status.wait_for()
            # Nothing serves the fake cluster's console: noVNC leaves "connecting" and ends in "failed".
            console.wait_for_function(
                "document.querySelector('#console-status').dataset.state !== 'connecting'", timeout=15_000
            )
            assert status.get_attribute("data-state") in ("failed", "disconnected", "password", "connected")
            console.close()

            page.get_by_role("button", name="Delete").click()
            page.wait_for_url(f"{base}/cloud/servers/")
            page.locator("#messages", has_text="Delete: browser-vm").wait_for()
            assert page.locator("tr.server-row", has_text="browser-vm").count() == 0
            assert "No servers yet." in page.inner_text("#servers")

            page.goto(f"{base}/cloud/images/")
            page.fill("#upload-name", "uploaded-disk")
            page.set_input_files(
                "#image-file", {"name": "disk.raw", "mimeType": "application/octet-stream", "buffer": b"\0" * 300_000}
            )
            page.click("#image-upload-button")
            page.locator("#images tr.image-row", has_text="uploaded-disk").wait_for()
            assert "active" in page.inner_text("#images tr.image-row:has-text('uploaded-disk')")
        finally:
            browser.close()
    assert js_errors == []
