"""An incident's timeline: its audit events in order, with who did what, and no phone numbers or texts."""

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit.service import record
from app.callout.timeline import safe_detail
from tests.app.reserve import add_volunteer, incident_body
from tests.app.twilio import sms

PHONE = re.compile(r"\+?447\d{9}")


def test_the_timeline_tells_the_incident_in_order_with_who(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    people = [add_volunteer(db, km=1 + i, name=f"Person {i}") for i in range(4)]
    db.commit()
    declared = client.post(
        "/api/v1/incidents",
        json=incident_body(needs=[{"skill": "first_aid", "count": 1}], overask=2),
        headers=coordinator,
    )
    incident_id = declared.json()["id"]
    assert sms(client, people[0].phone or "", "NO").status_code == 200
    assert sms(client, people[1].phone or "", "YES").status_code == 200
    patched = client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"needs": [{"skill": "first_aid", "count": 2}]},
        headers=coordinator,
    )
    assert patched.status_code == 200, patched.text
    assert client.post(f"/api/v1/incidents/{incident_id}/close", headers=coordinator).status_code == 200

    response = client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=coordinator)
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    actions = [e["action"] for e in events]
    assert actions[:2] == ["incident.declared", "wave.called"]
    assert (
        actions.index("callout.declined") < actions.index("callout.accepted") < actions.index("need.filled")
    )
    assert (
        actions.index("need.filled") < actions.index("need.count_changed") < actions.index("incident.closed")
    )
    assert actions[-1] == "incident.closed" or "callouts.stood_down" in actions[-2:]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    by_action = {e["action"]: e for e in reversed(events)}  # the first of each
    assert by_action["callout.accepted"]["actor_name"] == "Person 1"
    assert by_action["callout.declined"]["actor_name"] == "Person 0"
    assert by_action["incident.closed"]["actor_name"] == "test-coordinator"
    assert by_action["wave.called"]["detail"] == {"skill": "first_aid", "wave": 1, "volunteers": 2}
    assert by_action["need.count_changed"]["detail"] == {"skill": "first_aid", "from": 1, "to": 2}
    assert not PHONE.search(response.text)
    assert "YES" not in response.text and 'NO"' not in response.text


def test_the_timeline_is_only_this_incidents_and_only_for_coordinators(
    client: TestClient, coordinator: dict[str, str], viewer: dict[str, str], db: Session
) -> None:
    person = add_volunteer(db, km=1)
    db.commit()
    first = client.post("/api/v1/incidents", json=incident_body(), headers=coordinator).json()["id"]
    assert sms(client, person.phone or "", "NO").status_code == 200
    second = client.post("/api/v1/incidents", json=incident_body(title="Other"), headers=coordinator).json()[
        "id"
    ]
    events = client.get(f"/api/v1/incidents/{second}/timeline", headers=coordinator).json()["events"]
    assert [e["action"] for e in events].count("incident.declared") == 1
    assert "callout.declined" not in [e["action"] for e in events]
    events = client.get(f"/api/v1/incidents/{first}/timeline", headers=coordinator).json()["events"]
    assert [e["action"] for e in events].count("incident.declared") == 1
    assert "callout.declined" in [e["action"] for e in events]
    assert client.get(f"/api/v1/incidents/{first}/timeline", headers=viewer).status_code == 403
    assert client.get(f"/api/v1/incidents/{first}/timeline").status_code == 401
    assert client.get("/api/v1/incidents/999999/timeline", headers=coordinator).status_code == 404


def test_details_keep_numbers_and_known_words_and_drop_other_text(db: Session) -> None:
    detail = {
        "code": 30003,
        "error": "The 'To' number +447911000123 is not reachable",
        "reason": "call +447911000123",
        "skill": "first_aid",
        "callouts": [1, 2, 3],
        "refs": [4, 5],
        "needs": [{"skill": "first_aid", "count": 2, "body": "hello"}],
        "exercise": True,
        "body": "YES 12",
    }
    assert safe_detail(detail) == {
        "code": 30003,
        "reason": "call [number]",
        "skill": "first_aid",
        "callouts": 3,
        "refs": [4, 5],
        "needs": [{"skill": "first_aid", "count": 2}],
        "exercise": True,
    }
    record(db, actor="system", action="x", entity_type="incident", entity_id=None, detail=detail)


def test_inbox_resolutions_unclear_replies_and_welfare_answers_are_on_the_incidents_timeline(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    people = [add_volunteer(db, km=1 + i, name=f"Person {i}") for i in range(2)]
    db.commit()
    body = incident_body(needs=[{"skill": "first_aid", "count": 1}], overask=2)
    incident_id = client.post("/api/v1/incidents", json=body, headers=coordinator).json()["id"]
    other = client.post("/api/v1/incidents", json=incident_body(title="Other"), headers=coordinator).json()[
        "id"
    ]
    assert sms(client, people[0].phone or "", "maybe later?").status_code == 200
    # Called for both incidents, so the reply is tied to neither until a coordinator chooses.
    item = client.get("/api/v1/inbox", headers=coordinator).json()["items"][0]
    assert item["incident_id"] is None
    callout_id = next(c["callout_id"] for c in item["open_callouts"] if c["incident_id"] == incident_id)
    resolved = client.post(
        f"/api/v1/inbox/{item['id']}/resolve",
        json={"action": "accept", "callout_id": callout_id},
        headers=coordinator,
    )
    assert resolved.status_code == 200, resolved.text
    closed = client.post(
        f"/api/v1/incidents/{incident_id}/close", json={"reason": "All clear"}, headers=coordinator
    )
    assert closed.status_code == 200, closed.text
    assert sms(client, people[0].phone or "", "OK").status_code == 200

    events = client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=coordinator).json()["events"]
    actions = [e["action"] for e in events]
    for action in ("sms.ambiguous", "callout.accepted", "inbox.resolved", "incident.closed", "welfare.asked"):
        assert action in actions, (action, actions)
    assert actions.index("sms.ambiguous") < actions.index("inbox.resolved") < actions.index("incident.closed")
    assert actions[-1] == "welfare.ok"
    resolution = next(e for e in events if e["action"] == "inbox.resolved")
    assert resolution["actor_name"] == "test-coordinator"
    assert (
        resolution["detail"]["resolution"] == "accepted" and resolution["detail"]["callout_id"] == callout_id
    )
    assert events[-1]["actor_name"] == "Person 0"
    theirs = client.get(f"/api/v1/incidents/{other}/timeline", headers=coordinator).json()["events"]
    assert not {"inbox.resolved", "welfare.ok", "sms.ambiguous"} & {e["action"] for e in theirs}
