"""`GET /api/v1/volunteers?near=&within_km=`: exact edges on the WGS84 ellipsoid, nearest first."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.app.reserve import add_volunteer

# A quiet spot in the Cairngorms, so nothing else in the test database is within range.
CENTRE = (-3.6500, 57.0800)
NEAR = f"{CENTRE[0]},{CENTRE[1]}"
N, E, SW = 0.0, 90.0, 225.0


def search(client: TestClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/volunteers?near={NEAR}&{query}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_within_10_km_takes_9_9_and_leaves_10_1_on_every_bearing(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    inside = {
        add_volunteer(db, km=km, bearing=bearing, centre=CENTRE).id: km
        for km, bearing in [(9.9, N), (9.5, E), (9.7, SW)]
    }
    for bearing in (N, E, SW):
        add_volunteer(db, km=10.1, bearing=bearing, centre=CENTRE)

    page = search(client, coordinator, "within_km=10")
    items = page["items"]
    assert page["total"] == 3
    assert [v["id"] for v in items] == sorted(inside, key=inside.__getitem__), "nearest first"
    for volunteer in items:
        assert volunteer["distance_km"] == pytest.approx(inside[volunteer["id"]], abs=0.01)


def test_the_edge_is_measured_on_the_ellipsoid(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    # Measured on a sphere, 10.01 km due north of here comes out as 9.995 km and would be let in.
    keep = {add_volunteer(db, km=9.99, bearing=b, centre=CENTRE).id for b in (N, E)}
    for bearing in (N, E):
        add_volunteer(db, km=10.01, bearing=bearing, centre=CENTRE)
    page = search(client, coordinator, "within_km=10")
    assert {v["id"] for v in page["items"]} == keep


def test_skill_and_distance_combine(client: TestClient, coordinator: dict[str, str], db: Session) -> None:
    sawyer = add_volunteer(db, km=4, bearing=E, centre=CENTRE, skills=("chainsaw", "first_aid"))
    add_volunteer(db, km=3, bearing=N, centre=CENTRE, skills=("first_aid",))
    add_volunteer(db, km=2, bearing=SW, centre=CENTRE, skills=("chainsaw",), expires_on=date(2020, 1, 1))
    add_volunteer(db, km=10.1, bearing=N, centre=CENTRE, skills=("chainsaw",))

    page = search(client, coordinator, "within_km=10&skill=chainsaw")
    assert [(v["id"], round(v["distance_km"], 2)) for v in page["items"]] == [(sawyer.id, 4.0)]
    assert page["total"] == 1
    first_aiders = search(client, coordinator, "within_km=10&skill=first_aid")
    assert first_aiders["total"] == 2
