"""Coverage gaps: squares of an area with fewer than N published people within K km, from the snapshot."""

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.area.models import Area
from app.auth.models import Role
from app.map.capacity import refresh_capacity
from geo.distance import destination
from tests.app.mapdata import add_area, bng_cell, bng_centre
from tests.app.reserve import add_volunteer
from tests.conftest import bearer

KIELDER = (-2.58, 55.23)


@pytest.fixture
def viewer_kielder(db: Session) -> dict[str, str]:
    add_area(db, "KIELDER", KIELDER, radius_km=12)
    return bearer(db, Role.lrf_viewer, area="KIELDER")


def gaps(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, dict[str, Any]]:
    query = {"area": "KIELDER", "cell_km": 5, "within_km": 5} | params
    response = client.get("/api/v1/map/gaps", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return {f["id"]: f for f in response.json()["features"]}


def middle(db: Session, square: tuple[int, int]) -> tuple[float, float]:
    """The centre of a 1 km square, so people placed around it stay inside it."""
    return bng_centre(db, *square, 1)


def centre_distance_km(square: str, home: tuple[int, int]) -> float:
    """Centre of a gap square to the centre of a 1 km square, on the National Grid."""
    km, i, j = (int(p) for p in square.replace("km", "").split(":"))
    return math.hypot((i + 0.5) * km - (home[0] + 0.5), (j + 0.5) * km - (home[1] + 0.5))


def test_gaps_are_the_squares_short_of_published_people_in_reach(
    client: TestClient, db: Session, coordinator: dict[str, str], viewer_kielder: dict[str, str]
) -> None:
    home = bng_cell(db, *KIELDER, 1)
    for i in range(5):  # one published 1 km square of five flood rescuers
        add_volunteer(
            db, km=0.05 * (i + 1), bearing=72 * i, centre=middle(db, home), skills=("flood_rescue",)
        )
    east = destination(*KIELDER, 90, 10)
    for i in range(4):  # four more 10 km east without the skill: in no flood rescue count
        add_volunteer(db, km=0.05 * (i + 1), bearing=90 * i, centre=east, skills=("first_aid",))
    db.commit()

    for headers in (coordinator, viewer_kielder):  # one snapshot, the same answer for every role
        every = gaps(client, headers, skill="flood_rescue", min_volunteers=1000)
        assert 15 < len(every) < 40  # a 12 km circle meets about 25 squares of 5 km
        assert {f["properties"]["volunteers"] for f in every.values()} == {0, 5}
        found = gaps(client, headers, skill="flood_rescue", min_volunteers=5)
        reached = {s for s in every if centre_distance_km(s, home) <= 5}
        assert reached and set(found) == set(every) - reached
        assert all(every[s]["properties"]["volunteers"] == 5 for s in reached)
        sample = next(iter(found.values()))["properties"]
        assert sample == {
            "cell": sample["cell"],
            "cell_km": 5,
            "skill": "flood_rescue",
            "min_volunteers": 5,
            "within_km": 5,
            "volunteers": 0,
        }
        wide = gaps(client, headers, skill="flood_rescue", min_volunteers=5, within_km=25)
        assert wide == {}  # everything in the area is within 25 km of the five


def test_gaps_follow_the_snapshot_and_cover_the_area(
    client: TestClient, db: Session, viewer_kielder: dict[str, str]
) -> None:
    before = gaps(client, viewer_kielder, min_volunteers=5)
    assert before and all(f["properties"]["volunteers"] == 0 for f in before.values())
    for i in range(5):
        add_volunteer(db, km=0.05 * (i + 1), bearing=72 * i, centre=middle(db, bng_cell(db, *KIELDER, 1)))
    db.commit()
    assert gaps(client, viewer_kielder, min_volunteers=5) == before  # the snapshot, until a refresh
    refresh_capacity(db)
    db.commit()
    after = gaps(client, viewer_kielder, min_volunteers=5)
    assert 0 < len(after) < len(before)
    area = db.scalar(select(Area.geom).where(Area.code == "KIELDER"))
    for feature in before.values():
        shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(feature["geometry"])), 4326)
        assert db.scalar(select(func.ST_Intersects(area, shape))), feature["id"]


def test_only_thresholds_of_five_and_listed_distances_are_answered(
    client: TestClient, db: Session, viewer_kielder: dict[str, str]
) -> None:
    refused = [
        ({"min_volunteers": 1}, "min_volunteers"),
        ({"min_volunteers": 4}, "min_volunteers"),
        ({"within_km": 2}, "within_km must be one of 5, 10, 25"),
        ({"within_km": 5.5}, "within_km"),
        ({"cell_km": 1}, "cell_km must be one of 5, 25 for gaps"),
    ]
    for params, detail in refused:
        query = {"area": "KIELDER", "cell_km": 5, "within_km": 5} | params
        response = client.get("/api/v1/map/gaps", params=query, headers=viewer_kielder)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert detail in response.json()["detail"], response.json()


def test_gaps_are_cached_by_snapshot(client: TestClient, db: Session, viewer_kielder: dict[str, str]) -> None:
    params = {"area": "KIELDER", "cell_km": 5, "within_km": 5}
    first = client.get("/api/v1/map/gaps", params=params, headers=viewer_kielder)
    etag = first.headers["etag"]
    again = client.get("/api/v1/map/gaps", params=params, headers=viewer_kielder | {"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/api/v1/map/gaps", params=params | {"within_km": 10}, headers=viewer_kielder)
    assert other.status_code == 200 and other.headers["etag"] != etag


def test_an_area_too_big_for_the_cell_size_is_refused(
    client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    add_area(db, "WIDE", KIELDER, radius_km=450)
    response = client.get("/api/v1/map/gaps", params={"area": "WIDE", "cell_km": 5}, headers=admin)
    assert response.status_code == 422
    assert "use a larger cell" in response.json()["detail"]
    assert (
        client.get("/api/v1/map/gaps", params={"area": "WIDE", "cell_km": 25}, headers=admin).status_code
        == 200
    )
