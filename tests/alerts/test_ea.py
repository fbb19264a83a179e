"""Environment Agency /id/floods responses: the shared sample, one item, and wrong items named."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.ea import SENDER, parse_response
from alerts.safexml import DocumentError

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "ea_flood_warnings_sample.json"


@pytest.mark.skipif(not SAMPLE.exists(), reason="../shared/data is not beside this clone")
def test_the_shared_sample_reads_every_item() -> None:
    warnings = parse_response(SAMPLE.read_bytes())
    assert len(warnings) == 171 and SENDER == "environment-agency"
    first = warnings[0]
    assert first.flood_area_id == "122WAC954" and first.severity_level == 3 and first.in_force
    assert first.time_message_changed == datetime(2016, 3, 27, 9, 52, tzinfo=UTC)  # UK summer time
    assert (
        first.polygon_url == "http://environment.data.gov.uk/flood-monitoring/id/floodAreas/122WAC954/polygon"
    )
    ended = [w for w in warnings if not w.in_force]
    assert [w.flood_area_id for w in ended] == ["122FWC001"] and ended[0].message is None


def test_one_item_responses_and_winter_times() -> None:
    body = (
        b'{"items": {"floodAreaID": "A1", "severityLevel": 1, "timeRaised": "2026-12-04T10:00:00", '
        b'"timeMessageChanged": "2026-12-04T10:00:00"}}'
    )
    (only,) = parse_response(body)
    assert only.time_raised == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"[1, 2]", "an object with 'items'"),
        (b'{"items": 3}', "items must be a list"),
        (b'{"items": [{"severityLevel": 2}]}', "items[0].floodAreaID"),
        (
            b'{"items": [{"floodAreaID": "A", "severityLevel": true}]}',
            "items[0].severityLevel must be 1, 2, 3 or 4",
        ),
        (
            b'{"items": [{"floodAreaID": "A", "severityLevel": 2, "timeRaised": "soon"}]}',
            "items[0].timeRaised 'soon'",
        ),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_wrong_responses_name_the_item_and_field(body: bytes, needle: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_response(body)
    assert needle in str(caught.value)
