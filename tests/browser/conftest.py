"""Browser fixtures: the API on a real port, Debian's Chromium driven by Playwright, committed map data.

Chromium comes from the system (`scripts/setup` installs Debian's `chromium`); `playwright install` is
never run. The API runs on a port of its own, so these tests can share a session with the end-to-end
ones. Screenshots go to test-artifacts/.
"""

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Error, Page, Response, sync_playwright
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alerts.signature import SIGNATURE_HEADER, compute_signature
from app.api import create_app
from app.api.deps import current_settings
from app.api.webhooks import InlineConsequences, get_consequences
from app.area.service import area_around, import_areas
from app.auth.models import Role
from app.auth.service import create_token
from app.map.capacity import refresh_capacity
from app.settings import Settings, get_settings
from geo.features import read_feature_collection
from geo.places import find_town
from simulator.server import BackgroundServer
from tests.app.mapdata import CARLISLE, UK_AREAS
from tests.app.reserve import add_volunteer, incident_body
from tests.conftest import TEST_REDIS_URL, free_port
from tests.e2e.conftest import TABLES, wait_for
from tools.reserve import seed_volunteers

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAP_TABLES = f"{TABLES}, areas"  # TABLES holds the capacity snapshot and gap counts
CUMBRIA = "E48000006"
SECRET_NAME = "Ottoline Mapsecret"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def map_app(engine: Engine) -> FastAPI:
    """The API, with settings the page reads replaceable per test (no basemap by default: offline)."""
    app = create_app()
    app.dependency_overrides[current_settings] = lambda: get_settings().model_copy(update={"basemap_url": ""})
    app.dependency_overrides[get_consequences] = InlineConsequences  # no workers here: act at once
    return app


@pytest.fixture(scope="session")
def map_server(map_app: FastAPI) -> Iterator[BackgroundServer]:
    """The API over real HTTP on a free port."""
    server = BackgroundServer(map_app, port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(map_server: BackgroundServer) -> Iterator[Browser]:
    """Debian's headless Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page and everything it said and fetched."""

    page: Page
    errors: list[str]
    urls: list[str]
    bodies: list[bytes]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def watched(browser: Browser, map_server: BackgroundServer) -> Iterator[Watched]:
    """A fresh page that records console errors, uncaught exceptions, requests and response bodies."""
    context = browser.new_context(base_url=map_server.url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    seen = Watched(page, [], [], [])
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: seen.urls.append(r.url))
    page.on("response", lambda r: seen.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)

    def keep(response: Response | None) -> None:
        with contextlib.suppress(Error):  # a stream cut short has no body to keep
            if response is not None:
                seen.bodies.append(response.body())

    page.on("requestfinished", lambda r: keep(r.response()))
    yield seen
    context.close()


@dataclass
class MapWorld:
    """Committed data behind the pages: Cumbria, people near Carlisle, an incident, a token per role."""

    tokens: dict[str, str]
    incident_id: int
    phones: list[str]
    server: BackgroundServer

    def reply(self, phone: str, body: str) -> None:
        """A volunteer's SMS arriving at the webhook, signed as Twilio would sign it."""
        path = "/webhooks/twilio/sms"
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
            "From": phone,
            "To": os.environ["TWILIO_FROM_NUMBER"],
            "Body": body,
        }
        signature = compute_signature(
            os.environ["TWILIO_AUTH_TOKEN"], os.environ["PUBLIC_BASE_URL"] + path, form
        )
        response = httpx.post(self.server.url + path, data=form, headers={SIGNATURE_HEADER: signature})
        assert response.status_code == 200, response.text


def reset_tables(engine: Engine) -> None:
    """Empty the tables once no live stream is open.

    A stream outlives its page by up to one poll, and a poll's reads would deadlock with the TRUNCATE;
    every stream holds a slot in Redis until its last poll is over, so wait for the slots to go.
    """
    redis = Redis.from_url(TEST_REDIS_URL)
    wait_for(lambda: not any(redis.zcard(key) for key in redis.scan_iter("nvr:live-streams:*")), timeout_s=30)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {MAP_TABLES} RESTART IDENTITY CASCADE"))
    redis.flushdb()


@pytest.fixture
def map_world(engine: Engine, map_server: BackgroundServer, watched: Watched) -> Iterator[MapWorld]:
    """Committed data, removed again afterwards so the other suites start from empty tables (the page is
    closed first, so its live stream ends before the tables are emptied)."""
    reset_tables(engine)
    with Session(bind=engine, expire_on_commit=False) as db:
        if UK_AREAS.exists():
            uk = read_feature_collection(json.loads(UK_AREAS.read_text()))
            import_areas(db, collection=uk, code_field="LRFCode", name_field="LRFName", actor="test")
        else:
            area_around(
                db, code=CUMBRIA, name="Cumbria", lon=CARLISLE[0], lat=CARLISLE[1], radius_km=60, actor="test"
            )
        people = [add_volunteer(db, km=0.05 + 0.01 * i, bearing=i * 37, name=SECRET_NAME) for i in range(12)]
        people += [add_volunteer(db, km=1 + (i % 7), bearing=i * 53) for i in range(30)]
        # A realistic spread around Cumbrian towns, all beyond the incident's 10 km search radius.
        for seed, town in enumerate(("Kendal", "Workington", "Penrith", "Whitehaven")):
            seed_volunteers(db, count=800, actor="test", seed=seed, near=find_town(town), radius_km=12)
        tokens = {
            "admin": create_token(db, name="browser admin", role=Role.admin),
            "coordinator": create_token(db, name="browser coordinator", role=Role.coordinator),
            "viewer": create_token(db, name="browser viewer", role=Role.lrf_viewer, area_code=CUMBRIA),
        }
        refresh_capacity(db)
        db.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": 3}], overask=2, title="Eden flooding")
    response = httpx.post(
        map_server.url + "/api/v1/incidents",
        json=body,
        headers={"Authorization": f"Bearer {tokens['coordinator']}"},
    )
    assert response.status_code == 201, response.text
    yield MapWorld(tokens, response.json()["id"], [p.phone or "" for p in people], map_server)
    watched.page.close()
    reset_tables(engine)


@pytest.fixture
def basemap(map_app: FastAPI) -> Iterator[str]:
    """Configure a basemap URL for one test (the test serves its tiles)."""
    url = "https://tiles.example.test/{z}/{x}/{y}.png"
    base: Settings = get_settings()
    map_app.dependency_overrides[current_settings] = lambda: base.model_copy(update={"basemap_url": url})
    yield url
    map_app.dependency_overrides[current_settings] = lambda: base.model_copy(update={"basemap_url": ""})
