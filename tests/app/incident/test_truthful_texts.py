"""Texts that tell the truth: where (a near place or a grid reference), when (dated), only in the UK."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.message.models import Message, MessageKind
from tests.app.reserve import add_volunteer, incident_body

LERWICK = (-1.14427, 60.15339)
KIRKWALL = (-2.95873, 58.98479)
CAIRNGORMS = (-3.64, 57.07)


def at(lon: float, lat: float, **overrides: Any) -> dict[str, Any]:
    point = {"type": "Point", "coordinates": [lon, lat]}
    return incident_body(area=point, rendezvous={"point": point, "text": "Town Hall"}, **overrides)


def callup_body(db: Session, incident_id: int) -> str:
    return db.scalars(
        select(Message.body).where(Message.incident_id == incident_id, Message.kind == MessageKind.callup)
    ).one()


@pytest.mark.parametrize(
    ("where", "place"),
    [(LERWICK, "Lerwick"), (KIRKWALL, "Kirkwall"), (CAIRNGORMS, "NO 006 988")],
)
def test_the_callup_names_the_place_only_when_it_is_near(
    client: TestClient, coordinator: dict[str, str], db: Session, where: tuple[float, float], place: str
) -> None:
    add_volunteer(db, km=1, centre=where)
    db.commit()
    response = client.post("/api/v1/incidents", json=at(*where), headers=coordinator)
    assert response.status_code == 201, response.text
    assert response.json()["place"] == place
    assert callup_body(db, response.json()["id"]).startswith(f"NVR call-up: flooding, {place}.")


def test_a_later_start_is_texted_with_its_date(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    add_volunteer(db, km=1, centre=LERWICK)
    db.commit()
    starts = datetime(2098, 12, 13, 10, 0, tzinfo=UTC)  # a Saturday, GMT
    response = client.post(
        "/api/v1/incidents", json=at(*LERWICK, starts_at=starts.isoformat()), headers=coordinator
    )
    assert response.status_code == 201, response.text
    assert "Rendezvous Town Hall Sat 13 Dec 10:00." in callup_body(db, response.json()["id"])


@pytest.mark.parametrize(
    ("where", "needle"),
    [
        ((-74.006, 40.7128), "outside the United Kingdom"),
        ((-6.26, 53.35), "Dublin"),
        ((-4.48, 54.15), "Douglas"),
    ],
)
def test_an_area_outside_the_uk_is_a_clear_422(
    client: TestClient, coordinator: dict[str, str], where: tuple[float, float], needle: str
) -> None:
    response = client.post("/api/v1/incidents", json=at(*where), headers=coordinator)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert needle in response.json()["detail"] and "UK only" in response.json()["detail"]


def test_an_area_reaching_outside_the_uk_is_refused(client: TestClient, coordinator: dict[str, str]) -> None:
    # Centred on Dover, but reaching across the Channel to France.
    square = [[[1.0, 50.9], [2.2, 50.9], [2.2, 51.3], [1.0, 51.3], [1.0, 50.9]]]
    body = incident_body(area={"type": "Polygon", "coordinates": square})
    response = client.post("/api/v1/incidents", json=body, headers=coordinator)
    assert response.status_code == 422
    assert "outside the United Kingdom" in response.json()["detail"]


def test_a_start_in_the_past_is_a_clear_422_within_a_small_tolerance(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    response = client.post(
        "/api/v1/incidents", json=incident_body(starts_at="2020-03-01T09:00:00Z"), headers=coordinator
    )
    assert response.status_code == 422
    assert "starts_at" in response.json()["detail"] and "in the past" in response.json()["detail"]
    lately = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert (
        client.post(
            "/api/v1/incidents", json=incident_body(starts_at=lately), headers=coordinator
        ).status_code
        == 201
    )


def test_a_rendezvous_outside_the_uk_is_refused(client: TestClient, coordinator: dict[str, str]) -> None:
    body = incident_body(
        rendezvous={"point": {"type": "Point", "coordinates": [-74.0, 40.7]}, "text": "Times Sq"}
    )
    response = client.post("/api/v1/incidents", json=body, headers=coordinator)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("rendezvous: ")
