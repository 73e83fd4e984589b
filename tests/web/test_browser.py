"""The participant pages in headless Chromium: the zone script, a booking by tapping, and no JS.

Chromium is the Debian package at /usr/bin/chromium, driven by Playwright; it is never
downloaded. Without it these tests are skipped, unless REQUIRE_BROWSER=1 makes that a failure.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.services import Services
from bot.services.notifications import when
from bot.web.views import parse_start
from storage.enums import InterviewStatus
from tests.conftest import Seed
from tests.web import Link, first_participant, interviews_of, link_for, participant_timezone

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NEW_YORK = "America/New_York"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(f"{reason}; set REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What a page did that it should not: console errors (CSP refusals too), other origins."""

    def __init__(self, page: Any, origin: str) -> None:
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(origin) else self.elsewhere.append(r.url))
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)


@pytest.fixture
def nora(services: Services, seeded: Seed) -> Link:
    return first_participant(services, seeded.study_id)


def test_booking_in_the_browsers_own_zone(
    browser: Any, services: Services, nora: Link, server_url: str
) -> None:
    context = browser.new_context(timezone_id=NEW_YORK, locale="en-US", **PHONE)
    page = context.new_page()
    watch = Watch(page, server_url)
    try:
        page.goto(server_url + nora.path)
        # The script sees New York and reloads the page with it; the study itself is in Berlin.
        page.wait_for_url(f"**{nora.path}?tz=America%2FNew_York")
        assert page.locator(".zone-bar .zone-name").inner_text() == NEW_YORK
        assert page.locator("select#tz").input_value() == NEW_YORK

        button = page.locator("button[name=start]").first
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a thumb-sized target
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        start = parse_start(button.get_attribute("value"))
        slot = next(s for s in services.portal.slots(nora.token) if s.start == start)
        assert button.inner_text() == f"{start.astimezone(ZoneInfo(NEW_YORK)):%H:%M}"
        button.tap()

        page.wait_for_url(f"**{nora.page('booked')}?tz=America%2FNew_York")
        assert page.locator("h1").inner_text() == "You're booked"
        assert page.locator(".confirmation strong").inner_text() == when(slot.start, slot.end, NEW_YORK)
        assert page.get_by_role("link", name="Reschedule or cancel").get_attribute("href") == nora.page(
            "manage"
        )

        [interview] = interviews_of(services, nora.participant_id)
        assert interview.starts_at == slot.start
        assert participant_timezone(services, nora.participant_id) == NEW_YORK
        assert watch.errors == [] and watch.elsewhere == []
    finally:
        context.close()


def test_everything_works_without_javascript(
    browser: Any, services: Services, seeded: Seed, server_url: str
) -> None:
    otto = link_for(services, services.participants.list(seeded.study_id)[1].id)
    context = browser.new_context(timezone_id=NEW_YORK, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server_url + otto.path)
        assert page.locator(".zone-bar .zone-name").inner_text() == "Europe/Berlin"  # nothing guessed

        page.get_by_text("change time zone").click()
        page.get_by_label("Time zone").select_option(NEW_YORK)
        page.get_by_role("button", name="Show times").click()
        page.wait_for_url(f"**{otto.path}?tz=America%2FNew_York")

        slots = services.portal.slots(otto.token)
        page.locator("button[name=start]").nth(4).click()
        page.wait_for_url(f"**{otto.page('booked')}**")
        assert page.locator(".confirmation strong").inner_text() == when(
            slots[4].start, slots[4].end, NEW_YORK
        )

        # Cancel: the first tap only opens the form that says what will happen.
        page.goto(server_url + otto.page("manage"))
        page.get_by_text("Cancel my interview…").click()
        page.get_by_label("Reason (optional)").fill("Travelling that week")
        page.get_by_role("button", name="Yes, cancel my interview").click()
        page.wait_for_url(f"**{otto.page('canceled')}")
        assert page.locator("h1").inner_text() == "Your interview is canceled"
        [interview] = interviews_of(services, otto.participant_id)
        assert interview.status is InterviewStatus.CANCELED
    finally:
        context.close()


def test_the_skip_link_and_focus_are_visible(browser: Any, nora: Link, server_url: str) -> None:
    context = browser.new_context(timezone_id=NEW_YORK)
    page = context.new_page()
    try:
        page.goto(f"{server_url}{nora.path}?tz={NEW_YORK}")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
    finally:
        context.close()
