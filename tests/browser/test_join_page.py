"""The /join page in a real headless Chromium on a phone-sized screen: each refusal shown beside its
field, the code from the SMS, a wrong code, joining; with JavaScript off (a town) and on (a pin)."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.message.models import Message, MessageKind
from app.organisation.models import Organisation
from app.signup.models import PhoneCode
from app.signup.service import CODES_PER_NUMBER
from app.volunteer.models import Volunteer, VolunteerSource
from simulator.server import BackgroundServer
from tests.app.reserve import next_phone
from tests.browser.conftest import Watched, reset_tables

PHONE_SCREEN = {"width": 360, "height": 740}


@dataclass
class JoinWorld:
    """An empty reserve with one organisation to choose; reads what the page wrote."""

    engine: Engine

    def code_for(self, phone: str) -> str:
        with Session(self.engine) as db:
            body = db.scalars(
                select(Message.body)
                .where(Message.to_number == phone, Message.kind == MessageKind.verification_code)
                .order_by(Message.id.desc())
            ).first()
        assert body is not None, f"no code went to {phone}"
        return body[:6]

    def volunteer(self, phone: str) -> Volunteer | None:
        with Session(self.engine) as db:
            return db.scalar(select(Volunteer).where(Volunteer.phone == phone))

    def run(self, sql: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql))


@pytest.fixture
def join_world(engine: Engine, map_server: BackgroundServer) -> Iterator[JoinWorld]:
    reset_tables(engine)
    with Session(engine) as db:
        db.add(Organisation(name="Eden Valley Flood Wardens"))
        db.commit()
    yield JoinWorld(engine)
    reset_tables(engine)


@pytest.fixture
def phone_page(browser: Browser, map_server: BackgroundServer) -> Iterator[Watched]:
    """A phone-sized page with JavaScript on, recording errors."""
    yield from _page(browser, map_server, javascript=True)


@pytest.fixture
def no_js_page(browser: Browser, map_server: BackgroundServer) -> Iterator[Watched]:
    """A phone-sized page with JavaScript off, as on an old or locked-down phone."""
    yield from _page(browser, map_server, javascript=False)


def _page(browser: Browser, server: BackgroundServer, *, javascript: bool) -> Iterator[Watched]:
    context = browser.new_context(base_url=server.url, viewport=PHONE_SCREEN, java_script_enabled=javascript)
    page = context.new_page()
    seen = Watched(page, [], [], [])
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: seen.urls.append(r.url))
    yield seen
    context.close()


def fill_form(page: Page, *, phone: str, town: str = "Carlisle", agree: bool = True) -> None:
    page.fill("#name", "Mary Seacole")
    page.fill("#phone", phone)
    if not page.locator("#town").is_disabled():
        page.fill("#town", town)
    page.check("input[name=skills][value=first_aid]")
    page.check("input[name=organisations][value='Eden Valley Flood Wardens']")
    page.check("input[name=availability][value=weekend]")
    page.select_option("#max_travel_km", "40")
    if agree:
        page.check("#consent")


def error_beside(page: Page, field: str) -> str:
    return page.locator(f"#field-{field} .error").inner_text()


def test_joining_on_a_phone_shows_each_error_then_the_code_then_done(
    join_world: JoinWorld, phone_page: Watched
) -> None:
    page = phone_page.page
    page.goto("/join")
    expect(page.locator("h1")).to_have_text("Join the National Volunteer Reserve")
    expect(page.locator("#map")).to_be_visible()  # JavaScript on: a pin can be dropped
    phone_page.screenshot("join-form")

    phone = next_phone()
    fill_form(page, phone=phone, agree=False)
    page.click("button[type=submit]")
    expect(page.locator("#errors")).to_be_visible()
    assert "Tick the box to agree" in error_beside(page, "consent")
    assert page.input_value("#name") == "Mary Seacole"  # what they typed is kept
    assert page.is_checked("input[name=skills][value=first_aid]")
    phone_page.screenshot("join-error-consent")

    fill_form(page, phone="01228 817000")
    page.click("button[type=submit]")
    assert "not a mobile number" in error_beside(page, "phone")
    phone_page.screenshot("join-error-landline")

    fill_form(page, phone=phone, town="Carlilse")
    page.click("button[type=submit]")
    assert "did you mean 'Carlisle'" in error_beside(page, "location")
    phone_page.screenshot("join-error-town")

    fill_form(page, phone=phone)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your phone")
    expect(page.locator("main")).to_contain_text(f"ending {phone[-3:]}")
    assert join_world.volunteer(phone) is None  # not on the reserve until the code comes back
    phone_page.screenshot("join-code")

    code = join_world.code_for(phone)
    page.fill("#code", f"{(int(code) + 1) % 1_000_000:06d}")
    page.click("#code-form button[type=submit]")
    expect(page.locator("#errors")).to_contain_text("That code is not right: 4 tries left")
    phone_page.screenshot("join-error-wrong-code")

    page.click("#resend-form button")
    expect(page.locator("#errors")).to_contain_text("Your code is still on its way")
    phone_page.screenshot("join-error-resend-too-soon")

    page.fill("#code", code)
    page.click("#code-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("You are on the reserve")
    phone_page.screenshot("join-done")
    volunteer = join_world.volunteer(phone)
    assert volunteer is not None and volunteer.source is VolunteerSource.signup
    assert volunteer.max_travel_km == 40
    # Each refusal is an HTTP 4xx, which Chromium reports as a failed load: nothing else may have failed.
    assert [e for e in phone_page.errors if not e.startswith("Failed to load resource")] == []
    assert all(url.startswith(page.url.split("/join")[0]) for url in phone_page.urls)  # nothing off-site


def test_an_expired_code_and_a_number_sent_too_many_codes_are_explained(
    join_world: JoinWorld, phone_page: Watched
) -> None:
    page = phone_page.page
    phone = next_phone()
    page.goto("/join")
    fill_form(page, phone=phone)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your phone")
    join_world.run("UPDATE phone_codes SET expires_at = now() - interval '1 second'")
    page.fill("#code", join_world.code_for(phone))
    page.click("#code-form button[type=submit]")
    expect(page.locator("#errors")).to_contain_text("That code has expired")
    phone_page.screenshot("join-error-expired-code")

    for _ in range(CODES_PER_NUMBER - 1):
        page.goto("/join")
        fill_form(page, phone=phone)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Check your phone")
    page.goto("/join")
    fill_form(page, phone=phone)
    page.click("button[type=submit]")
    expect(page.locator("#errors")).to_contain_text("too many codes in the last hour")
    phone_page.screenshot("join-error-too-many-codes")


def test_too_many_wrong_codes_end_the_code(join_world: JoinWorld, phone_page: Watched) -> None:
    page = phone_page.page
    phone = next_phone()
    page.goto("/join")
    fill_form(page, phone=phone)
    page.click("button[type=submit]")
    code = join_world.code_for(phone)
    for _ in range(5):
        page.fill("#code", f"{(int(code) + 7) % 1_000_000:06d}")
        page.click("#code-form button[type=submit]")
    expect(page.locator("#errors")).to_contain_text("Too many wrong tries")
    phone_page.screenshot("join-error-too-many-tries")
    with Session(join_world.engine) as db:
        db.execute(update(PhoneCode).values(created_at=PhoneCode.created_at))  # the row is still there
        assert db.scalar(select(PhoneCode.attempts)) == 5


def test_with_javascript_off_a_town_is_enough_to_join(join_world: JoinWorld, no_js_page: Watched) -> None:
    page = no_js_page.page
    page.goto("/join")
    expect(page.locator("#pin")).to_be_hidden()  # no map without JavaScript, the town field instead
    phone = next_phone()
    fill_form(page, phone=phone, town="Penrith")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your phone")
    page.fill("#code", join_world.code_for(phone))
    page.click("#code-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("You are on the reserve")
    no_js_page.screenshot("join-done-no-javascript")
    assert join_world.volunteer(phone) is not None


def test_a_pin_dropped_on_the_map_is_where_they_respond_from(
    join_world: JoinWorld, phone_page: Watched
) -> None:
    page = phone_page.page
    page.goto("/join")
    page.locator("#map").click(position={"x": 180, "y": 120})
    expect(page.locator("#pin-status")).to_contain_text("Pin placed")
    assert page.locator("#town").is_disabled()
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#lon"))
    assert 49 < lat < 61 and -11 < lon < 3
    phone_page.screenshot("join-pin")
    phone = next_phone()
    fill_form(page, phone=phone)
    page.click("button[type=submit]")
    page.fill("#code", join_world.code_for(phone))
    page.click("#code-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("You are on the reserve")
    with Session(join_world.engine) as db:
        point = db.execute(
            text(
                "SELECT ST_X(location::geometry), ST_Y(location::geometry) FROM volunteers WHERE phone = :p"
            ),
            {"p": phone},
        ).one()
    assert (round(point[0], 5), round(point[1], 5)) == (lon, lat)
