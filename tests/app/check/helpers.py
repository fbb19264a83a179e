"""Checks for tests: dates counted back from today in the UK, bodies, and recording through the API."""

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.volunteer.service import today_uk

RED_CROSS = "British Red Cross"
ST_JOHN = "St John Ambulance"
NUMBER = "001234567890"


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (later, when negative), 28 February for a 29th with no leap year
    then, as PostgreSQL adds years."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def days_ago(days: int) -> date:
    return today_uk() - timedelta(days=days)


def check_body(**fields: Any) -> dict[str, Any]:
    """An enhanced DBS check with the barred lists, for the children's workforce, issued 100 days ago."""
    body: dict[str, Any] = {
        "scheme": "dbs",
        "level": "enhanced_barred",
        "workforce": "children",
        "certificate_number": NUMBER,
        "certificate_date": days_ago(100).isoformat(),
        "organisation": RED_CROSS,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def record(client: TestClient, headers: dict[str, str], volunteer_id: int, **fields: Any) -> dict[str, Any]:
    """Record a check through the API; it must be accepted."""
    response = client.post(
        f"/api/v1/passport/volunteers/{volunteer_id}/checks", json=check_body(**fields), headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
