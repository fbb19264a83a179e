"""An incident's report as JSON, a printable page and a CSV: the whole story from declaring to the record
after closing, and who may read it."""

import csv
import io
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.message.models import Message, MessageKind, MessageStatus
from tests.app.callout.test_service import declare, outbox
from tests.app.reserve import add_volunteer
from tests.app.twilio import sms


def send_all(db: Session) -> None:
    """Play the workers: every pending message sent and delivered now."""
    db.execute(
        update(Message)
        .where(Message.status == MessageStatus.pending)
        .values(status=MessageStatus.delivered, sent_at=datetime.now(UTC))
    )
    db.commit()


def test_the_whole_story_declare_answer_close_report(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    near = add_volunteer(db, km=1, name="Ann <b>Near</b>")
    no = add_volunteer(db, km=3, name="Bob No")
    mid = add_volunteer(db, km=6, name="=Cat Mid")
    silent = add_volunteer(db, km=8, name="Dan Silent")
    db.commit()
    incident = declare(
        client,
        coordinator,
        title="Eden <flood> & co",
        overask=2,
        needs=[{"skill": "first_aid", "count": 3}],
    )
    ref = incident["id"]
    send_all(db)
    sms(client, near.phone or "", f"YES {ref}")
    sms(client, no.phone or "", f"NO {ref}")
    sms(client, mid.phone or "", f"YES {ref}")
    send_all(db)
    callouts = client.get(f"/api/v1/incidents/{ref}/callouts", headers=coordinator).json()
    near_callout = next(c for c in callouts if c["volunteer_id"] == near.id)
    arrived = datetime.now(UTC) - timedelta(hours=2)
    client.post(
        f"/api/v1/incidents/{ref}/callouts/{near_callout['id']}/attendance",
        json={"arrived_at": arrived.isoformat(), "done_at": (arrived + timedelta(minutes=90)).isoformat()},
        headers=coordinator,
    )
    closed = client.post(
        f"/api/v1/incidents/{ref}/close", json={"reason": "the water has gone down"}, headers=coordinator
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["needs"][0]["accepted"] == 2  # the record keeps who was confirmed
    for person in (near, mid, silent):
        stand_downs = [m.body for m in outbox(db, person) if m.kind is MessageKind.standdown]
        assert "The incident is closed: the water has gone down." in stand_downs[-1]
    for confirmed in (near, mid):  # then asked whether they are safe and home
        assert outbox(db, confirmed)[-1].kind is MessageKind.welfare_check

    answer = client.get(f"/api/v1/incidents/{ref}/report", headers=coordinator)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["incident"]["status"] == "closed"
    assert report["incident"]["close_reason"] == "the water has gone down"
    assert [e["event"] for e in report["timeline"]] == ["declared", "first SMS sent", "closed"]
    assert report["time_to_first_sms_s"] is not None and report["time_to_first_sms_s"] >= 0
    (first_aid,) = report["needs"]
    assert (first_aid["count"], first_aid["accepted"], first_aid["filled_at"]) == (3, 2, None)
    assert first_aid["fill_over_time"][0] == {"minute": 0, "accepted": 0}
    assert first_aid["fill_over_time"][-1]["accepted"] == 2
    bands = {b["band"]: b for b in report["acceptance_by_distance"]}
    assert (bands["0-5"]["called"], bands["0-5"]["accepted"], bands["0-5"]["rate"]) == (2, 1, 0.5)
    assert (bands["5-10"]["called"], bands["5-10"]["accepted"]) == (2, 1)
    assert bands["25+"] == {"band": "25+", "called": 0, "accepted": 0, "rate": None}
    kinds = {(m["direction"], m["kind"]): m for m in report["messages"]["by_kind"]}
    assert kinds[("outbound", "callup")]["count"] == 4
    assert kinds[("outbound", "standdown")]["count"] == 3  # the silent one and the two confirmed
    assert kinds[("inbound", "reply")]["count"] == 3
    assert report["messages"]["outbound_segments"] >= report["messages"]["outbound"]
    attendance = {a["name"]: a for a in report["attendance"]}
    assert set(attendance) == {"Ann <b>Near</b>", "=Cat Mid"}
    assert (attendance["Ann <b>Near</b>"]["hours"], attendance["Ann <b>Near</b>"]["no_show"]) == (1.5, False)
    assert attendance["=Cat Mid"]["no_show"] is True
    assert report["hours"] == {"total": 1.5, "people": 1}

    page = client.get(f"/api/v1/incidents/{ref}/report.html", headers=coordinator)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Eden &lt;flood&gt; &amp; co" in html and "<flood>" not in html
    assert "Ann &lt;b&gt;Near&lt;/b&gt;" in html and "<b>Near" not in html
    assert html.count("<svg") == 1 and "<script" not in html
    assert "the water has gone down" in html

    exported = client.get(f"/api/v1/incidents/{ref}/attendance.csv", headers=coordinator)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["name"] for r in rows] == ["Ann <b>Near</b>", "'=Cat Mid"]  # never a spreadsheet formula
    assert rows[0]["hours"] == "1.5" and rows[1]["no_show"] == "True"


def test_only_coordinators_and_admins_read_a_report(
    client: TestClient,
    coordinator: dict[str, str],
    admin: dict[str, str],
    viewer: dict[str, str],
    db: Session,
) -> None:
    incident = declare(client, coordinator, area={"type": "Point", "coordinates": [-2.55, 53.2]})
    for path in ("report", "report.html", "attendance.csv"):
        url = f"/api/v1/incidents/{incident['id']}/{path}"
        assert client.get(url, headers=viewer).status_code == 403
        assert client.get(url).status_code == 401
        assert client.get(url, headers=admin).status_code == 200
    assert client.get("/api/v1/incidents/999999/report", headers=coordinator).status_code == 404
    fresh = client.get(f"/api/v1/incidents/{incident['id']}/report", headers=coordinator).json()
    assert fresh["incident"]["status"] == "open" and fresh["attendance"] == []
    assert fresh["time_to_first_sms_s"] is None  # nothing sent yet
