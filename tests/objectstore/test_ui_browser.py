"""The file browser in Debian's Chromium: create a container, upload 5 MiB with progress, download, publish, share."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from identity.quota_registry import sync_resources
from identity.services import catalog
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign, default_domain, role

os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_DIR_ENV = "NEFOS_SCREENSHOT_DIR"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]

# Records every value the progress bar shows in sessionStorage, which survives the reload after upload.
RECORD_PROGRESS = """
() => {
  const bar = document.getElementById("upload-progress");
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
    seen.push(Number(bar.getAttribute("aria-valuenow")));
    sessionStorage.setItem("progress", JSON.stringify(seen));
  }).observe(bar, {attributes: true, attributeFilter: ["aria-valuenow"]});
}
"""


@pytest.fixture
def walker(transactional_db) -> str:
    """A member of `walker-project`, with the storage quota declared (set up before the browser starts)."""
    default_domain()
    for name in ("admin", "member", "reader"):
        role(name)
    sync_resources()
    catalog.seed_catalog("RegionOne")
    user = UserFactory(name="walker")
    project = ProjectFactory(name="walker-project")
    assign(user, project, "member", "reader")
    user.default_project = project
    user.save(update_fields=["default_project"])
    UserFactory(name="friend")
    return user.name


def test_upload_download_and_public_link_when_driven_in_chromium(live_server, walker, tmp_path: Path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    base = live_server.url
    payload = os.urandom(5 * 1024 * 1024 + 123)
    source = tmp_path / "holiday.bin"
    source.write_bytes(payload)
    shots = Path(os.environ.get(SCREENSHOT_DIR_ENV, str(tmp_path)))
    js_errors: list[str] = []
    # No ORM calls below: Playwright's sync API runs an event loop in this thread.
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.on("pageerror", lambda error: js_errors.append(str(error)))
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", walker)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.click("a.nav-link:has-text('Files')")
            page.fill("#container-form input[name=name]", "photos")
            page.click("#container-form button[type=submit]")
            page.wait_for_url(f"{base}/files/c/photos/")

            page.evaluate(RECORD_PROGRESS)
            page.set_input_files("#upload-input", str(source))
            with page.expect_navigation():
                page.click("#upload-button")
            row = page.locator("tr.file-row", has_text="holiday.bin")
            row.wait_for()
            progress = page.evaluate("JSON.parse(sessionStorage.getItem('progress') || '[]')")
            page.screenshot(path=str(shots / "files-browse.png"), full_page=True)

            with page.expect_download() as info:
                row.locator("a.download-link").click()
            downloaded = Path(info.value.path()).read_bytes()

            row.locator("a", has_text="holiday.bin").click()
            page.click("#make-public")
            public_url = page.locator("#public-url").inner_text().strip()

            page.fill("#share-form input[name=read]", "friend")
            page.click("#share-form button[type=submit]")
            page.locator("#messages", has_text="Sharing was saved.").wait_for()
            shared_with = page.input_value("#share-form input[name=read]")
            page.screenshot(path=str(shots / "files-object.png"), full_page=True)
        finally:
            browser.close()
    assert js_errors == []
    assert progress and progress[-1] == 100 and max(progress) == 100
    assert downloaded == payload
    assert shared_with == "friend"
    assert public_url.startswith(f"{base}/public/")
    with urllib.request.urlopen(public_url, timeout=30) as response:
        assert response.read() == payload
