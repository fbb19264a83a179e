"""Who may see what, as a matrix: every role against every map endpoint, inside and outside its area.

A forum (lrf_viewer) is bound to HOME (around Carlisle); AWAY (around London) is someone else's.
Outside one's area the answer is 404, exactly as for something that does not exist; never a 403.
"""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.area.models import Area
from app.auth.models import Role
from tests.app.mapdata import CARLISLE, LONDON, add_area, forget_stream_slots, tile_of
from tests.app.reserve import add_volunteer, incident_body
from tests.conftest import bearer

ROLES = ("none", "admin", "coordinator", "viewer")
SECRET_NAME = "Philippa Secretname"


@dataclass(frozen=True)
class World:
    """Two areas, an incident in each, people near both, and a token per role."""

    headers: dict[str, dict[str, str]]
    home_incident: int
    away_incident: int
    phones: list[str]


@pytest.fixture
def world(client: TestClient, db: Session) -> World:
    add_area(db, "HOME", CARLISLE, radius_km=30)
    add_area(db, "AWAY", LONDON, radius_km=30)
    people = [add_volunteer(db, km=0.2 + i * 0.1, bearing=i * 40, name=SECRET_NAME) for i in range(8)]
    people += [add_volunteer(db, km=0.3 + i * 0.1, bearing=i * 50, centre=LONDON) for i in range(6)]
    db.commit()
    headers = {
        "none": {},
        "admin": bearer(db, Role.admin),
        "coordinator": bearer(db, Role.coordinator),
        "viewer": bearer(db, Role.lrf_viewer, area="HOME"),
    }
    ids = []
    for centre in (CARLISLE, LONDON):
        body = incident_body(
            area={"type": "Point", "coordinates": list(centre)},
            rendezvous={"point": {"type": "Point", "coordinates": list(centre)}, "text": "Town hall"},
        )
        response = client.post("/api/v1/incidents", json=body, headers=headers["coordinator"])
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    forget_stream_slots()
    return World(headers, ids[0], ids[1], [p.phone or "" for p in people])


def tile(centre: tuple[float, float], z: int, layer: str = "capacity") -> str:
    tz, tx, ty = tile_of(*centre, z)
    return f"/tiles/{layer}/{tz}/{tx}/{ty}.mvt"


# endpoint, then the status for: no token, admin, coordinator, forum viewer of HOME.
MATRIX: list[tuple[str, tuple[int, int, int, int]]] = [
    ("/api/v1/areas", (401, 200, 200, 200)),
    ("/api/v1/areas/HOME", (401, 200, 200, 200)),
    ("/api/v1/areas/AWAY", (401, 200, 200, 404)),
    ("/api/v1/areas/NOWHERE", (401, 404, 404, 404)),
    ("/api/v1/map/me", (401, 200, 200, 200)),
    ("/api/v1/map/areas", (401, 200, 200, 200)),
    ("/api/v1/map/areas?area=AWAY", (401, 200, 200, 404)),
    ("/api/v1/map/incidents", (401, 200, 200, 200)),
    ("/api/v1/map/incidents?area=HOME", (401, 200, 200, 200)),
    ("/api/v1/map/incidents?area=AWAY", (401, 200, 200, 404)),
    ("/api/v1/map/incidents/{home}", (401, 200, 200, 200)),
    ("/api/v1/map/incidents/{away}", (401, 200, 200, 404)),
    ("/api/v1/map/incidents/0", (401, 404, 404, 404)),
    ("/api/v1/map/incidents/{home}/callouts", (401, 200, 200, 403)),
    ("/api/v1/map/incidents/{away}/callouts", (401, 200, 200, 403)),
    ("/api/v1/map/incidents/0/callouts", (401, 404, 404, 403)),
    ("/api/v1/map/capacity?area=HOME", (401, 200, 200, 200)),
    ("/api/v1/map/capacity?cell_km=25", (401, 200, 200, 200)),
    ("/api/v1/map/capacity", (401, 422, 422, 200)),
    ("/api/v1/map/capacity?area=AWAY", (401, 200, 200, 404)),
    ("/api/v1/map/capacity?area=HOME&skill=unicorn_rescue", (401, 422, 422, 422)),
    ("/api/v1/map/gaps?area=HOME", (401, 200, 200, 200)),
    ("/api/v1/map/gaps", (401, 422, 422, 200)),
    ("/api/v1/map/gaps?area=AWAY", (401, 200, 200, 404)),
    ("{tile_home}", (401, 200, 200, 200)),
    ("{tile_national}", (401, 200, 200, 200)),
    ("{tile_away}", (401, 200, 200, 404)),
    ("{tile_away}?area=AWAY", (401, 200, 200, 404)),
    ("{tile_other_layer}", (401, 404, 404, 404)),
    ("/tiles/capacity/3/9/9.mvt", (401, 404, 404, 404)),
    ("/api/v1/map/live?max_seconds=0.01", (401, 200, 200, 200)),
    ("/api/v1/map/live?area=AWAY&max_seconds=0.01", (401, 200, 200, 404)),
    ("/api/v1/map/live?incident={home}&max_seconds=0.01", (401, 200, 200, 200)),
    ("/api/v1/map/live?incident={away}&max_seconds=0.01", (401, 200, 200, 404)),
    ("/map", (200, 200, 200, 200)),
    ("/map/static/map.js", (200, 200, 200, 200)),
    ("/map/static/leaflet/leaflet.js", (200, 200, 200, 200)),
    ("/map/static/../service.py", (404, 404, 404, 404)),
]


def resolve(path: str, world: World) -> str:
    return path.format(
        home=world.home_incident,
        away=world.away_incident,
        tile_home=tile(CARLISLE, 10),
        tile_national=tile(CARLISLE, 5),
        tile_away=tile(LONDON, 10),
        tile_other_layer=tile(CARLISLE, 10, layer="people"),
    )


def test_every_role_against_every_endpoint(client: TestClient, world: World) -> None:
    failures = []
    for path, expected in MATRIX:
        url = resolve(path, world)
        for role, status in zip(ROLES, expected, strict=True):
            response = client.get(url, headers=world.headers[role])
            if response.status_code != status:
                failures.append(
                    f"{role:12} {url}: {response.status_code} (want {status}) {response.text[:120]}"
                )
            elif status >= 400 and not url.startswith("/map/static/.."):
                assert response.headers["content-type"] == "application/problem+json", url
    assert not failures, "\n".join(failures)


def test_outside_the_area_looks_exactly_like_nothing_there(client: TestClient, world: World) -> None:
    viewer = world.headers["viewer"]
    elsewhere = client.get(f"/api/v1/map/incidents/{world.away_incident}", headers=viewer).json()
    nowhere = client.get("/api/v1/map/incidents/987654", headers=viewer).json()
    assert elsewhere["detail"] == f"incident {world.away_incident} does not exist"
    assert {k: v for k, v in elsewhere.items() if k != "detail"} == {
        k: v for k, v in nowhere.items() if k != "detail"
    }
    area = client.get("/api/v1/map/capacity?area=AWAY", headers=viewer).json()
    assert area == client.get("/api/v1/map/capacity?area=NOWHERE", headers=viewer).json() | {
        "detail": "area AWAY does not exist"
    }


def test_outlines_follow_the_scope(client: TestClient, world: World) -> None:
    def codes(role: str, **params: str) -> list[str]:
        response = client.get("/api/v1/map/areas", params=params, headers=world.headers[role])
        return sorted(f["properties"]["code"] for f in response.json()["features"])

    assert codes("viewer") == ["HOME"]
    assert codes("coordinator") == ["AWAY", "HOME"]
    assert codes("coordinator", area="AWAY") == ["AWAY"]


def test_a_forum_sees_incidents_in_its_area_with_counts_only(client: TestClient, world: World) -> None:
    viewer = world.headers["viewer"]
    collection = client.get("/api/v1/map/incidents", headers=viewer)
    assert collection.headers["content-type"] == "application/geo+json"
    features = collection.json()["features"]
    assert {f["properties"]["incident_id"] for f in features} == {world.home_incident}
    assert sorted(f["properties"]["layer"] for f in features) == ["incident", "rendezvous"]
    incident = next(f for f in features if f["properties"]["layer"] == "incident")
    need = incident["properties"]["needs"][0]
    assert need["skill"] == "first_aid" and need["called"] == 8 and need["accepted"] == 0
    assert {"called", "accepted", "declined", "pending"} <= set(need)
    everyone = client.get("/api/v1/map/incidents", headers=world.headers["coordinator"]).json()
    ids = {f["properties"]["incident_id"] for f in everyone["features"]}
    assert ids == {world.home_incident, world.away_incident}


def test_coordinators_see_engaged_people_at_home_without_names_or_phones(
    client: TestClient, world: World
) -> None:
    response = client.get(
        f"/api/v1/map/incidents/{world.home_incident}/callouts", headers=world.headers["coordinator"]
    )
    assert response.status_code == 200
    features = response.json()["features"]
    assert len(features) == 8
    assert {f["properties"]["status"] for f in features} == {"called"}
    assert all(f["geometry"]["type"] == "Point" for f in features)
    assert set(features[0]["properties"]) == {
        "callout_id", "incident_id", "volunteer_id", "status", "skill", "wave", "distance_km", "answered_at",
    }  # fmt: skip
    assert SECRET_NAME not in response.text and "+44" not in response.text
    # Names and phones are for coordinators through the incident API, not in map data.
    listing = client.get(
        f"/api/v1/incidents/{world.home_incident}/callouts", headers=world.headers["coordinator"]
    )
    assert SECRET_NAME in listing.text


def test_no_name_or_phone_in_any_map_response(client: TestClient, world: World) -> None:
    for role in ("viewer", "coordinator", "admin"):
        for path, _ in MATRIX:
            url = resolve(path, world)
            if url.startswith("/api/v1/areas") or ("/callouts" in url and role == "viewer"):
                continue
            response = client.get(url, headers=world.headers[role])
            for secret in [SECRET_NAME.encode(), b"+4479", *(p.encode() for p in world.phones)]:
                assert secret not in response.content, f"{role} {url} leaks {secret!r}"
            if (
                role == "viewer"
                and response.status_code == 200
                and "geo+json" in response.headers["content-type"]
            ):
                body = response.json()
                points = [f for f in body.get("features", []) if f.get("geometry", {}).get("type") == "Point"]
                assert all(f["properties"]["layer"] in {"incident", "rendezvous"} for f in points), url


def test_a_forum_token_whose_area_was_removed_sees_nothing(
    client: TestClient, db: Session, world: World
) -> None:
    add_area(db, "GONE", CARLISLE, radius_km=5)
    lost = bearer(db, Role.lrf_viewer, area="GONE")
    db.execute(delete(Area).where(Area.code == "GONE"))
    db.commit()
    for url in ("/api/v1/map/incidents", "/api/v1/areas", "/api/v1/map/capacity", tile(CARLISLE, 5)):
        assert client.get(url, headers=lost).status_code == 404, url
