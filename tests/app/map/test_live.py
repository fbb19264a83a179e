"""Live map updates: each poll sends what changed, forums get counts only, revoked tokens are cut off."""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, Role
from app.auth.service import find_token
from app.callout.models import Callout, CalloutStatus
from app.map.live import MAX_STREAMS_PER_TOKEN, Event, LiveFeed, StreamSlots
from app.map.scope import scope_for
from app.queue import get_redis
from app.volunteer.models import Volunteer
from tests.app.mapdata import CARLISLE, add_area, forget_stream_slots
from tests.app.reserve import add_volunteer, incident_body
from tests.app.twilio import sms
from tests.conftest import bearer


@pytest.fixture(autouse=True)
def no_streams_left_over() -> None:
    """Every test here starts with no live-stream slots held."""
    forget_stream_slots()


def feed_for(db: Session, headers: dict[str, str]) -> LiveFeed:
    token = find_token(db, token=headers["Authorization"].removeprefix("Bearer "))
    assert token is not None
    return LiveFeed(scope=scope_for(db, token, area_code=None))


def named(events: list[Event], name: str) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in events if e.name == name]


def counts(event: dict[str, Any]) -> dict[str, int]:
    incident = next(f for f in event["features"] if f["properties"]["layer"] == "incident")
    need = incident["properties"]["needs"][0]
    return {k: need[k] for k in ("called", "accepted", "declined", "pending")}


def declare(client: TestClient, db: Session, coordinator: dict[str, str]) -> tuple[int, list[Volunteer]]:
    add_area(db, "HOME", CARLISLE, radius_km=30)
    people = [add_volunteer(db, km=1 + i, bearing=40 * i) for i in range(3)]
    db.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": 2}], overask=2)
    response = client.post("/api/v1/incidents", json=body, headers=coordinator)
    assert response.status_code == 201, response.text
    return response.json()["id"], people


def test_an_acceptance_reaches_coordinators_and_forums(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    incident_id, people = declare(client, db, coordinator)
    viewer = feed_for(db, bearer(db, Role.lrf_viewer, area="HOME"))
    boss = feed_for(db, coordinator)

    first = viewer.poll(db)
    assert [e.name for e in first] == ["incident"]
    assert counts(named(first, "incident")[0]) == {"called": 3, "accepted": 0, "declined": 0, "pending": 3}
    opening = boss.poll(db)
    assert [e.name for e in opening] == ["incident", "callouts"]
    assert len(named(opening, "callouts")[0]["features"]) == 3
    assert viewer.poll(db) == [] and boss.poll(db) == []  # nothing changed, nothing sent

    assert sms(client, people[0].phone or "", "YES").status_code == 200
    seen = viewer.poll(db)
    assert [e.name for e in seen] == ["incident"]
    assert counts(named(seen, "incident")[0])["accepted"] == 1
    told = boss.poll(db)
    change = named(told, "callouts")[0]["features"]
    assert [(f["properties"]["volunteer_id"], f["properties"]["status"]) for f in change] == [
        (people[0].id, "accepted")
    ]
    assert change[0]["geometry"]["type"] == "Point"
    for event in seen + told:
        assert all((p.phone or "") not in event.data for p in people)
        assert "Volunteer" not in event.data  # the names the test gave them

    assert sms(client, people[1].phone or "", "NO").status_code == 200
    declined = named(boss.poll(db), "callouts")[0]["features"]
    assert declined[0]["properties"]["status"] == "declined"
    assert declined[0]["geometry"] is None  # no longer engaged: the map drops the position
    assert incident_id


def test_a_change_committed_late_is_still_sent(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    declare(client, db, coordinator)
    feed = feed_for(db, coordinator)
    feed.poll(db)
    # A writer whose transaction began 20 s before our last poll commits only now.
    stamped = db.scalar(select(func.now())) - timedelta(seconds=20)
    callout_id = db.scalar(select(Callout.id).limit(1))
    db.execute(
        update(Callout)
        .where(Callout.id == callout_id)
        .values(status=CalloutStatus.accepted, answered_at=datetime.now(UTC), updated_at=stamped)
    )
    db.commit()
    events = feed.poll(db)
    changed = named(events, "callouts")[0]["features"]
    assert [f["properties"]["callout_id"] for f in changed] == [callout_id]


def test_a_closed_incident_is_reported_once_then_dropped(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    incident_id, _ = declare(client, db, coordinator)
    feed = feed_for(db, bearer(db, Role.lrf_viewer, area="HOME"))
    feed.poll(db)
    assert client.post(f"/api/v1/incidents/{incident_id}/close", headers=coordinator).status_code == 200
    closing = named(feed.poll(db), "incident")
    assert [
        f["properties"]["status"] for f in closing[0]["features"] if f["properties"]["layer"] == "incident"
    ] == ["closed"]
    assert feed.poll(db) == []


def test_a_revoked_token_ends_the_stream(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    declare(client, db, coordinator)
    headers = bearer(db, Role.lrf_viewer, area="HOME")
    feed = feed_for(db, headers)
    feed.poll(db)
    db.execute(
        update(ApiToken).where(ApiToken.id == feed.scope.token_id).values(revoked_at=datetime.now(UTC))
    )
    db.commit()
    assert [e.name for e in feed.poll(db)] == ["revoked"] and feed.closed


def test_the_stream_over_http(client: TestClient, db: Session, coordinator: dict[str, str]) -> None:
    incident_id, people = declare(client, db, coordinator)
    viewer = bearer(db, Role.lrf_viewer, area="HOME")
    response = client.get("/api/v1/map/live", params={"max_seconds": 0.01}, headers=viewer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    text = response.text
    assert text.startswith(": nvr live map\nretry: 3000\n\n")
    assert "event: incident\ndata: {" in text and "event: callouts" not in text
    assert all((p.phone or "") not in text for p in people)
    data = json.loads(text.split("event: incident\ndata: ", 1)[1].split("\n", 1)[0])
    assert data["features"][0]["properties"]["incident_id"] == incident_id
    coordinator_stream = client.get(
        "/api/v1/map/live", params={"max_seconds": 0.01}, headers=coordinator
    ).text
    assert "event: callouts" in coordinator_stream
    assert client.get("/api/v1/map/live").status_code == 401


def slots_of(headers: dict[str, str], db: Session) -> tuple[StreamSlots, int]:
    token = find_token(db, token=headers["Authorization"].removeprefix("Bearer "))
    assert token is not None
    return StreamSlots(get_redis()), token.id


def test_a_token_may_hold_three_live_streams_and_a_fourth_is_a_clear_429(
    client: TestClient, db: Session
) -> None:
    add_area(db, "HOME", CARLISLE, radius_km=30)
    viewer = bearer(db, Role.lrf_viewer, area="HOME")
    slots, token_id = slots_of(viewer, db)
    held = [slots.take(token_id) for _ in range(MAX_STREAMS_PER_TOKEN)]  # three streams elsewhere
    response = client.get("/api/v1/map/live", params={"max_seconds": 0.01}, headers=viewer)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Too many requests" and body["limit"] == MAX_STREAMS_PER_TOKEN
    assert "3 live map streams open" in body["detail"]
    other = bearer(db, Role.lrf_viewer, area="HOME")  # the cap is per token, not per area
    assert client.get("/api/v1/map/live", params={"max_seconds": 0.01}, headers=other).status_code == 200

    slots.give_back(token_id, held.pop())
    response = client.get("/api/v1/map/live", params={"max_seconds": 0.01}, headers=viewer)
    assert response.status_code == 200
    assert slots.held(token_id) == MAX_STREAMS_PER_TOKEN - 1  # a stream gives its slot back when it ends


def test_a_slot_whose_stream_died_lapses(db: Session) -> None:
    slots, token_id = slots_of(bearer(db, Role.coordinator), db)
    redis = get_redis()
    stale = time.time() - 1
    redis.zadd(f"nvr:live-streams:{token_id}", {f"dead-{i}": stale for i in range(MAX_STREAMS_PER_TOKEN)})
    slot = slots.take(token_id)  # the dead API process's slots no longer count
    assert slots.held(token_id) == 1
    slots.renew(token_id, slot)
    assert slots.held(token_id) == 1


def test_closing_takes_the_confirmed_off_the_map_though_they_stay_confirmed(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    incident_id, people = declare(client, db, coordinator)
    feed = feed_for(db, coordinator)
    feed.poll(db)
    assert sms(client, people[0].phone or "", "YES").status_code == 200
    feed.poll(db)
    assert client.post(f"/api/v1/incidents/{incident_id}/close", headers=coordinator).status_code == 200
    closing = feed.poll(db)
    assert [e.name for e in closing] == ["incident", "callouts"]
    ended = {f["properties"]["volunteer_id"]: f for f in named(closing, "callouts")[0]["features"]}
    assert ended[people[0].id]["properties"]["status"] == "accepted"
    assert all(f["geometry"] is None for f in ended.values())
    assert feed.poll(db) == []
