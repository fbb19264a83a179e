"""Organisations' asks for help that are not emergencies: posted by each role, called up in the same
waves as an incident with every text marked, and volunteers who text EMERGENCIES ONLY left out of them."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.callout.models import CalloutStatus
from app.incident.models import Incident
from app.message.models import MessageKind
from app.volunteer.models import Volunteer
from app.volunteer.service import organisations_named
from tests.app.callout.test_service import declare, mark_sent, outbox
from tests.app.reserve import add_volunteer, incident_body
from tests.app.webhook.test_service import callout_of, text
from tests.conftest import bearer, is_problem

TREES = "Cumbria Woodlands"
OTHER = "Eden Rivers Trust"
PREFIX = "Not an emergency: "


def ask_body(**overrides: Any) -> dict[str, Any]:
    """Tree planting near Carlisle tomorrow, needing one sandbagger (a skill needing no verification)."""
    body = incident_body(
        title="Tree planting at Kingmoor",
        kind="environment",
        needs=[{"skill": "sandbagging", "count": 1}],
        starts_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
    )
    body.update(overrides)
    return body


def org(db: Session, name: str = TREES) -> dict[str, str]:
    return bearer(db, Role.org_verifier, organisation=name)


def post(client: TestClient, headers: dict[str, str], **overrides: Any) -> Any:
    return client.post("/api/v1/asks", json=ask_body(**overrides), headers=headers)


def test_an_organisations_token_posts_for_itself_and_its_ask_calls_people_marked_as_not_an_emergency(
    client: TestClient, db: Session
) -> None:
    volunteer = add_volunteer(db, km=1, skills=("sandbagging",))
    headers = org(db)
    response = post(client, headers)
    assert response.status_code == 201, response.text
    ask = response.json()
    assert (ask["emergency"], ask["organisation"], ask["kind"]) == (False, TREES, "environment")
    assert ask["needs"][0]["called"] == 1
    row = db.get_one(Incident, ask["id"])
    assert row.emergency is False and row.organisation_id is not None
    callup = outbox(db, volunteer)[-1]
    assert callup.kind is MessageKind.callup
    assert callup.body.startswith(f"{PREFIX}NVR volunteering ask: environment work, ")
    assert f"Reply YES {ask['id']} to go" in callup.body
    declared = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "incident.declared", AuditEvent.entity_id == ask["id"])
    ).one()
    assert declared.detail["emergency"] is False and declared.actor.endswith("test-org_verifier")


def test_an_organisations_token_naming_another_organisation_is_refused_and_nothing_is_written(
    client: TestClient, db: Session
) -> None:
    organisations_named(db, names=[OTHER])
    db.commit()
    before = db.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1))
    problem = is_problem(post(client, org(db), organisation=OTHER), 403)
    assert OTHER in problem["detail"]
    assert db.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1)) == before
    assert post(client, org(db), organisation=TREES).status_code == 201  # its own name is fine


def test_coordinators_and_admins_must_name_an_existing_organisation(
    client: TestClient, db: Session, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    organisations_named(db, names=[TREES])
    db.commit()
    assert "organisation" in is_problem(post(client, coordinator), 422)["detail"]
    assert "no organisation named" in is_problem(post(client, admin, organisation="Nobody"), 422)["detail"]
    for headers in (coordinator, admin):
        response = post(client, headers, organisation=TREES)
        assert response.status_code == 201, response.text
        assert response.json()["organisation"] == TREES


def test_a_forum_viewer_may_not_post_or_list_asks(
    client: TestClient, db: Session, viewer: dict[str, str]
) -> None:
    organisations_named(db, names=[TREES])
    db.commit()
    is_problem(post(client, viewer, organisation=TREES), 403)
    is_problem(client.get("/api/v1/asks", headers=viewer), 403)


def test_an_ask_needs_a_start_and_checks_its_place_as_an_incident_does(
    client: TestClient, db: Session
) -> None:
    headers = org(db)
    body = ask_body()
    del body["starts_at"]
    is_problem(client.post("/api/v1/asks", json=body, headers=headers), 422)
    far = is_problem(post(client, headers, area={"type": "Point", "coordinates": [2.35, 48.85]}), 422)
    assert "UK" in far["detail"] or "United Kingdom" in far["detail"]


def test_an_organisation_lists_reads_and_closes_only_its_own_asks(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = add_volunteer(db, km=1, skills=("sandbagging",))
    mine, theirs = org(db), org(db, OTHER)
    own = post(client, mine).json()
    other = post(client, theirs).json()
    emergency = declare(client, coordinator)
    listed = client.get("/api/v1/asks", headers=mine).json()
    assert [i["id"] for i in listed["items"]] == [own["id"]] and listed["total"] == 1
    everyone = {i["id"] for i in client.get("/api/v1/asks", headers=coordinator).json()["items"]}
    assert everyone == {own["id"], other["id"]}  # asks only: not the emergency
    assert client.get(f"/api/v1/asks/{own['id']}", headers=mine).status_code == 200
    is_problem(client.get(f"/api/v1/asks/{other['id']}", headers=mine), 404)
    is_problem(client.get(f"/api/v1/asks/{emergency['id']}", headers=coordinator), 404)
    is_problem(client.post(f"/api/v1/asks/{other['id']}/close", headers=mine), 404)
    is_problem(client.post(f"/api/v1/asks/{emergency['id']}/close", headers=mine), 404)
    mark_sent(db)
    closed = client.post(f"/api/v1/asks/{own['id']}/close", json={"reason": "rained off"}, headers=mine)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert callout_of(db, volunteer, own).status is CalloutStatus.stood_down
    assert outbox(db, volunteer)[-1].body == (
        f"{PREFIX}NVR {own['id']}: stand down. The ask is closed: rained off. Thank you."
    )
    # The organisation's token still reaches nothing else.
    is_problem(client.get("/api/v1/incidents", headers=mine), 403)


def test_an_ask_is_answered_as_an_incident_is_and_every_answer_is_marked(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = add_volunteer(db, km=1, skills=("sandbagging",))
    late = add_volunteer(db, km=2, skills=("sandbagging",))
    ask = post(client, org(db)).json()
    mark_sent(db)
    text(client, volunteer, "yes")
    assert callout_of(db, volunteer, ask).status is CalloutStatus.accepted
    confirmation = outbox(db, volunteer)[-1]
    assert confirmation.kind is MessageKind.confirmation
    assert confirmation.body.startswith(f"{PREFIX}NVR {ask['id']}: you are confirmed")
    standdown = outbox(db, late)[-1]  # the need filled: the other one is stood down
    assert standdown.kind is MessageKind.standdown and standdown.body.startswith(PREFIX)
    sent = client.post(
        f"/api/v1/incidents/{ask['id']}/update", json={"text": "Bring gloves."}, headers=coordinator
    )
    assert sent.json() == {"sent": 1}
    assert outbox(db, volunteer)[-1].body == f"{PREFIX}NVR {ask['id']} update: Bring gloves."
    too_long = client.post(
        f"/api/v1/incidents/{ask['id']}/update", json={"text": "x" * 290}, headers=coordinator
    )
    assert "would be 3 SMS segments" in is_problem(too_long, 422)["detail"]  # its mark counted too
    text(client, volunteer, "arrived")
    assert outbox(db, volunteer)[-1].body.startswith(f"{PREFIX}NVR {ask['id']}: thanks, your arrival")
    report = client.get(f"/api/v1/incidents/{ask['id']}/report.html", headers=coordinator)
    assert "Tree planting at Kingmoor (not an emergency)" in report.text


def test_the_console_lists_asks_with_their_mark(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    ask = post(client, org(db)).json()
    emergency = declare(client, coordinator)
    items = {i["id"]: i for i in client.get("/api/v1/incidents", headers=coordinator).json()["items"]}
    assert (items[ask["id"]]["emergency"], items[ask["id"]]["organisation"]) == (False, TREES)
    assert (items[emergency["id"]]["emergency"], items[emergency["id"]]["organisation"]) == (True, None)


def test_emergencies_only_by_sms_keeps_a_volunteer_out_of_asks_but_not_emergencies_and_all_asks_undoes_it(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = add_volunteer(db, km=1, skills=("first_aid", "sandbagging"))
    db.commit()
    text(client, volunteer, "EMERGENCIES ONLY")
    db.refresh(volunteer)
    assert volunteer.emergencies_only is True
    answer = outbox(db, volunteer)[-1]
    assert answer.kind is MessageKind.self_service
    assert answer.body == (
        "NVR: You will only be asked to help in emergencies. Text ALL ASKS to hear about other "
        "volunteering too."
    )
    audited = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == "volunteer", AuditEvent.entity_id == volunteer.id
        )
    ).all()
    assert "volunteer.emergencies_only" in audited
    text(client, volunteer, "STATUS")
    assert "for emergencies only" in outbox(db, volunteer)[-1].body
    headers = org(db)
    skipped = post(client, headers).json()
    assert skipped["needs"][0]["called"] == 0
    emergency = declare(client, coordinator)
    assert callout_of(db, volunteer, emergency).status is CalloutStatus.called
    assert not outbox(db, volunteer)[-1].body.startswith(PREFIX)

    text(client, volunteer, "emergency only")  # the singular works too, and says so again
    assert outbox(db, volunteer)[-1].body.startswith("NVR: You will only be asked to help in emergencies.")
    text(client, volunteer, "all asks")
    db.refresh(volunteer)
    assert volunteer.emergencies_only is False
    assert "EMERGENCIES ONLY" in outbox(db, volunteer)[-1].body
    assert (
        "volunteer.all_asks"
        in db.scalars(
            select(AuditEvent.action).where(
                AuditEvent.entity_type == "volunteer", AuditEvent.entity_id == volunteer.id
            )
        ).all()
    )
    called = post(client, headers, needs=[{"skill": "sandbagging", "count": 1}]).json()
    assert callout_of(db, volunteer, called).status is CalloutStatus.called


def test_the_ask_preview_leaves_out_those_who_want_emergencies_only(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    organisations_named(db, names=[TREES])
    add_volunteer(db, km=1, skills=("sandbagging",))
    add_volunteer(db, km=2, skills=("sandbagging",)).emergencies_only = True
    db.commit()
    body = ask_body(organisation=TREES)
    ask = client.post("/api/v1/asks/preview", json=body, headers=coordinator).json()
    del body["organisation"]
    incident = client.post("/api/v1/incidents/preview", json=body, headers=coordinator).json()
    assert ask["needs"][0]["eligible_within_radius"] == 1
    assert incident["needs"][0]["eligible_within_radius"] == 2
    assert db.scalar(select(Volunteer.id).where(Volunteer.emergencies_only)) is not None
