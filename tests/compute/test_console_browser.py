"""The console page in Debian's Chromium: noVNC reaches `connected` through the proxy, on loopback.

The live server serves the page and noVNC (static/vendor/@novnc/novnc); the console proxy runs
in a thread with the real token check; the fake cluster reports a fake RFB server as the
console. The page's state badge (`#console-status[data-state]`) is what the test reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from backend_ganeti.drivers.types import ConsoleInfo
from compute.console_proxy import ConsoleProxy
from tests.compute.console_fakes import FakeRfbServer, ProxyThread, wait_for
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]

CONSOLE = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
STATUS = "#console-status"


@pytest.fixture
def rfb() -> Iterator[FakeRfbServer]:
    """A fake VNC console on a free loopback port."""
    server = FakeRfbServer(width=320, height=200, name=b"browser-vm")
    yield server
    server.close()


@pytest.fixture
def proxy(settings) -> Iterator[ProxyThread]:
    """The console proxy (real token check) on a free loopback port; the page is told where."""
    running = ProxyThread(ConsoleProxy(connect_timeout=2.0))
    settings.PORTAL_CONSOLE_URL = running.url
    yield running
    running.stop()


def test_console_page_connects_disconnects_and_fails_when_driven_in_chromium(
    live_server, nova, booted, cloud, cluster, rfb, proxy, monkeypatch
):
    playwright_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setattr(cloud.cluster(cluster.name), "console", lambda name: ConsoleInfo("vnc", "127.0.0.1", rfb.port))
    response = nova.post(f"/servers/{booted['id']}/remote-consoles", CONSOLE)
    assert response.status_code == 200, response.content
    token = parse_qs(urlsplit(response.json()["remote_console"]["url"]).query)["token"][0]
    url = f"{live_server.url}/compute/console?{urlencode({'token': token})}"
    # No ORM calls below: Playwright's sync API runs an event loop in this thread.
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        js_errors: list[str] = []
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            page.goto(url)
            page.wait_for_selector(f"{STATUS}[data-state=connected]", timeout=15_000)
            assert page.inner_text(STATUS) == "Connected"
            assert page.title() == "browser-vm · Nefos console"  # the desktop name from ServerInit
            assert page.locator("#console-screen canvas").count() == 1
            assert page.is_enabled("#console-cad")
            # noVNC answered ServerInit: SetPixelFormat (type 0, 20 bytes), then SetEncodings (type 2).
            assert wait_for(lambda: len(rfb.received) > 20)
            assert rfb.received[0] == 0 and rfb.received[20] == 2
            rfb.hang_up()
            page.wait_for_selector(f"{STATUS}[data-state=disconnected]", timeout=10_000)
            assert page.is_disabled("#console-cad")
            rfb.close()  # the console stops listening: the proxy upgrades, then closes with 1013
            page.reload()
            page.wait_for_selector(f"{STATUS}[data-state=failed]", timeout=10_000)
            assert "Could not connect" in page.inner_text(STATUS)
        finally:
            browser.close()
    assert js_errors == []
    assert rfb.accepted == 1
