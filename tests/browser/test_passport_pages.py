"""The passport's two pages in a real headless Chromium: an organisation's verifier works through the
queue (verifying one claim on the evidence seen, rejecting another with a reason), then the volunteer
opens the one-use link PASSPORT sends and sees the verified skill, never the certificate number."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_token
from app.badge import service as badges
from app.message.models import Message, MessageKind
from app.volunteer.models import Credential, CredentialStatus
from simulator.server import BackgroundServer
from tests.app.reserve import add_volunteer
from tests.browser.conftest import ARTIFACTS, Watched, reset_tables

ORGANISATION = "Eden Valley Red Cross"
CERTIFICATE = "FA-2026-448812"
PHONE_SCREEN = {"width": 360, "height": 740}


@pytest.fixture
def empty(engine: Engine, map_server: BackgroundServer) -> Iterator[Engine]:
    reset_tables(engine)
    yield engine
    reset_tables(engine)


def credential_of(engine: Engine, volunteer_id: int) -> Credential:
    with Session(engine) as db:
        return db.scalars(select(Credential).where(Credential.volunteer_id == volunteer_id)).one()


def test_a_verifier_decides_two_claims_and_the_volunteer_sees_the_verified_one(
    empty: Engine, watched: Watched, browser: Browser, map_server: BackgroundServer
) -> None:
    with Session(empty) as db:
        ada = add_volunteer(db, km=1, name="Ada Lovelace", verified=False, organisations=[ORGANISATION])
        bob = add_volunteer(db, km=2, name="Bob Claimant", verified=False, organisations=[ORGANISATION])
        token = create_token(db, name="Red Cross verifier", role=Role.org_verifier, organisation=ORGANISATION)
        db.commit()
        ada_id, bob_id = ada.id, bob.id
    ada_claim, bob_claim = credential_of(empty, ada_id).id, credential_of(empty, bob_id).id

    page = watched.page
    page.goto("/verify")
    watched.screenshot("verify-signin")
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator(f"#credential-{ada_claim}")).to_be_visible()
    expect(page.locator(f"#credential-{bob_claim}")).to_be_visible()
    assert token not in page.url  # the token travels only in form bodies
    watched.screenshot("verify-queue")

    page.fill(f"#number-{ada_claim}", CERTIFICATE)
    page.fill(f"#course-{ada_claim}", "Emergency first aid at work")
    page.fill(f"#date-{ada_claim}", "2026-10-01")
    page.locator(f"#credential-{ada_claim} button.primary").click()
    expect(page.locator("#notice")).to_be_visible()
    page.fill(f"#reason-{bob_claim}", "The certificate shown had expired in 2024")
    page.locator(f"#credential-{bob_claim} button.reject").click()
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#empty")).to_be_visible()  # nothing left waiting
    watched.screenshot("verify-decided")

    assert credential_of(empty, ada_id).status is CredentialStatus.verified
    assert credential_of(empty, bob_id).status is CredentialStatus.rejected
    with Session(empty) as db:
        told = db.scalars(
            select(Message.body).where(
                Message.volunteer_id == bob_id, Message.kind == MessageKind.credential_rejected
            )
        ).all()
        assert len(told) == 1 and "expired in 2024" in told[0]
        link = badges.create_link(db, volunteer_id=ada_id)
        db.commit()

    context = browser.new_context(base_url=map_server.url, viewport=PHONE_SCREEN)
    phone = context.new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    phone.goto(f"/passport/{link}")
    expect(phone.locator("button[type=submit]")).to_have_text("Show my passport")
    phone.screenshot(path=str(ARTIFACTS / "passport-open.png"), full_page=True)
    phone.click("button[type=submit]")
    expect(phone.locator("main")).to_contain_text("First aid")
    content = phone.content()
    assert CERTIFICATE not in content and "Ada Lovelace" in content
    phone.screenshot(path=str(ARTIFACTS / "passport-page.png"), full_page=True)
    phone.goto(f"/passport/{link}")  # one use: the link is spent
    expect(phone.locator("main")).to_contain_text("PASSPORT")
    expect(phone.locator("button[type=submit]")).to_have_count(0)
    context.close()
    assert not errors and not watched.errors
