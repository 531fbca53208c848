"""End to end in Debian's Chromium: sign up, admin activation, quota bars, clouds.yaml download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from identity.quota_models import Resource
from identity.services import catalog
from tests.factories import PASSWORD, ProjectFactory, UserFactory, assign, default_domain, role

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
]


@pytest.fixture
def seeded(transactional_db) -> None:
    """Bootstrap data for the live server (transactional tests start from an empty database)."""
    default_domain()
    for name in ("admin", "member", "reader"):
        role(name)
    Resource.objects.update_or_create(
        name="compute.cores", defaults={"description": "Virtual CPUs", "default_project_limit": 8}
    )
    Resource.objects.update_or_create(
        name="storage.bytes",
        defaults={"description": "Object storage", "unit": "bytes", "default_project_limit": 10**10},
    )
    catalog.seed_catalog("RegionOne")
    admin = UserFactory(name="boss", is_staff=True)
    assign(admin, ProjectFactory(name="admin"), "admin", "member")


def _login(page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_signup_activation_quota_bars_and_clouds_yaml_when_driven_in_chromium(live_server, seeded, tmp_path: Path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    base = live_server.url
    # No ORM calls below: Playwright's sync API runs an event loop in this thread.
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        js_errors: list[str] = []
        try:
            user_page = browser.new_context().new_page()
            user_page.on("pageerror", lambda error: js_errors.append(str(error)))
            user_page.goto(f"{base}/signup/")
            user_page.fill("input[name=name]", "walker")
            user_page.fill("input[name=email]", "walker@example.org")
            user_page.fill("input[name=password1]", "walker-secret")
            user_page.fill("input[name=password2]", "walker-secret")
            user_page.click("button[type=submit]")
            assert "waiting for an administrator" in user_page.inner_text("#signup-result")

            _login(user_page, base, "walker", "walker-secret")
            assert "waiting for an administrator" in user_page.inner_text("form")

            admin_page = browser.new_context().new_page()
            admin_page.on("pageerror", lambda error: js_errors.append(str(error)))
            _login(admin_page, base, "boss", PASSWORD)
            admin_page.goto(f"{base}/manage/users/?status=pending")
            admin_page.on("dialog", lambda dialog: dialog.accept())
            row = admin_page.locator("tr", has_text="walker")
            row.get_by_role("button", name="Activate").click()
            admin_page.locator("#messages", has_text="walker was activated").wait_for()
            assert row.locator(".badge").inner_text() == "active"

            _login(user_page, base, "walker", "walker-secret")
            user_page.wait_for_url(f"{base}/")
            bars = user_page.locator(".quota-bar")
            assert bars.count() == 2
            assert "0 of 8" in user_page.inner_text(".quota[data-resource='compute.cores']")
            screenshot = tmp_path / "home.png"
            user_page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 0

            user_page.goto(f"{base}/api-access/")
            with user_page.expect_download() as download_info:
                user_page.click("#download-clouds-yaml")
            download = download_info.value
            assert download.suggested_filename == "clouds.yaml"
            clouds = yaml.safe_load(Path(download.path()).read_text())
        finally:
            browser.close()
    assert js_errors == []
    cloud = clouds["clouds"]["nefos-walker"]
    assert cloud["auth"]["auth_url"] == f"{base}/identity/v3"
    assert cloud["auth"]["username"] == "walker"
    assert cloud["auth"]["project_name"] == "walker"
