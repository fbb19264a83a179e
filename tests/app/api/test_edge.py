"""What one request may cost, and bad input at the edge: 413 and 422 problems, never a 500."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.api.test_volunteers import volunteer_body
from tests.app.reserve import incident_body
from tests.conftest import is_problem
from tests.geo.test_limits import circle


def test_a_million_vertex_incident_is_refused_before_it_is_parsed(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    ring = "[" + "[-2.9,54.8]," * 999_999 + "[-2.9,54.8]]"
    body = json.dumps(incident_body(area={"type": "Polygon", "coordinates": []})).replace("[]", f"[{ring}]")
    started = time.perf_counter()
    response = client.post(
        "/api/v1/incidents", content=body, headers={**coordinator, "Content-Type": "application/json"}
    )
    assert time.perf_counter() - started < 2
    assert "larger than the limit of 1,048,576 bytes" in is_problem(response, 413)["detail"]


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(300):
            yield b"x" * 8192

    response = client.post(
        "/api/v1/incidents", content=chunks(), headers={**coordinator, "Content-Type": "application/json"}
    )
    assert (
        "transfer-encoding" not in response.request.headers
        or "content-length" not in response.request.headers
    )
    is_problem(response, 413)


def test_an_outline_over_the_vertex_limit_is_a_clear_422(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    area = {"type": "Polygon", "coordinates": [circle(12_000)]}
    response = client.post("/api/v1/incidents", json=incident_body(area=area), headers=coordinator)
    assert "12,001 positions is over the limit of 10,000" in is_problem(response, 422)["detail"]


def test_an_import_may_be_larger_than_the_json_limit(client: TestClient, coordinator: dict[str, str]) -> None:
    padding = "n" * 180  # long names make a file over 1 MiB from few rows
    rows = "".join(f"{padding} {i},07911{i:06d},-2.9,54.8,first_aid\n" for i in range(6_000))
    data = ("name,phone,lon,lat,skills\n" + rows).encode()
    assert len(data) > 1024 * 1024
    response = client.post(
        "/api/v1/volunteers/import", files={"file": ("big.csv", data, "text/csv")}, headers=coordinator
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["created"] == 6_000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/volunteers/2147483648",
        "/api/v1/volunteers/99999999999999999999999999",
        "/api/v1/volunteers/-1",
        "/api/v1/volunteers?offset=18446744073709551617",
        "/api/v1/volunteers?offset=-1",
        "/api/v1/volunteers?skill=first%00aid",
        "/api/v1/incidents/2147483648",
        "/api/v1/incidents?offset=2147483648",
        "/api/v1/map/incidents/2147483648",
        "/api/v1/map/capacity?area=E48%0000004",
        "/api/v1/areas/E48%0000004",
        "/api/v1/map/live?incident=2147483648",
    ],
)
def test_out_of_range_ids_offsets_and_nul_in_urls_are_422(
    client: TestClient, admin: dict[str, str], path: str
) -> None:
    is_problem(client.get(path, headers=admin), 422)


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"name": "Ada\u0000Lovelace"}, "NUL"),
        ({"organisations": ["Red\u0000Cross"]}, "NUL"),
        ({"consent_at": "2026-03-01T09:30:00"}, "needs a UTC offset"),
        ({"consent_at": "9999-12-31T23:59:59-23:00"}, "out of range"),
        ({"consent_at": "0001-01-01T00:00:00+01:00"}, "out of range"),
        ({"consent_at": "2999-01-01T00:00:00Z"}, "must be between 1900 and 2200"),
        (
            {"unavailable": [{"starts_at": "2026-03-01T09:00:00", "ends_at": "2026-03-02T09:00:00Z"}]},
            "needs a UTC offset",
        ),
        ({"availability": [{"weekday": 0, "starts": "09:00+01:00", "ends": "17:00"}]}, "takes no offset"),
    ],
)
def test_bad_text_and_times_in_bodies_are_422(
    client: TestClient, coordinator: dict[str, str], overrides: dict[str, Any], needle: str
) -> None:
    response = client.post("/api/v1/volunteers", json=volunteer_body(**overrides), headers=coordinator)
    assert needle in is_problem(response, 422)["detail"]


def test_times_in_other_zones_are_compared_as_instants_and_answered_in_utc(
    client: TestClient, coordinator: dict[str, str]
) -> None:
    period = {"starts_at": "2026-03-01T09:00:00+01:00", "ends_at": "2026-03-01T08:30:00Z"}
    response = client.post(
        "/api/v1/volunteers", json=volunteer_body(unavailable=[period]), headers=coordinator
    )
    assert response.status_code == 201, response.text
    stored = response.json()["unavailable"][0]
    assert stored["starts_at"] == "2026-03-01T08:00:00Z" and stored["ends_at"] == "2026-03-01T08:30:00Z"
    swapped = {"starts_at": "2026-03-01T09:00:00+01:00", "ends_at": "2026-03-01T07:30:00Z"}
    response = client.post(
        "/api/v1/volunteers",
        json=volunteer_body(phone="07911 654321", unavailable=[swapped]),
        headers=coordinator,
    )
    assert "ends_at must be after starts_at" in is_problem(response, 422)["detail"]


def test_an_incident_with_nul_in_its_title_is_422(client: TestClient, coordinator: dict[str, str]) -> None:
    response = client.post("/api/v1/incidents", json=incident_body(title="Flood\u0000"), headers=coordinator)
    assert "NUL" in is_problem(response, 422)["detail"]


def test_the_openapi_document_says_what_errors_look_like(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    erase = schema["paths"]["/api/v1/volunteers/{volunteer_id}"]["delete"]
    for status in ("401", "403", "404", "422", "500", "503"):
        assert erase["responses"][status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert erase["parameters"][0]["schema"]["maximum"] == 2**31 - 1
    create = schema["paths"]["/api/v1/volunteers"]["post"]["responses"]
    assert {"409", "413", "422"} <= set(create)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    window = schema["components"]["schemas"]["WindowCreate"]["properties"]["starts"]
    assert "format" not in window and window["pattern"].startswith("^")
