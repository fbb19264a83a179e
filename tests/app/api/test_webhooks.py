"""Webhooks an attacker can build from a captured one are refused; Twilio's own keep working."""

import os

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.volunteer.models import VolunteerStatus
from tests.app.reserve import add_volunteer
from tests.app.twilio import (
    INBOUND,
    STATUS,
    new_sid,
    post_with,
    receipt_form,
    sign,
    signed_post,
    sms,
    sms_form,
)


def test_a_captured_stop_cannot_be_replayed_with_a_moved_boundary(client: TestClient, db: Session) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    stop = sms_form(volunteer.phone or "", "STOP", OptOutType="STOP")
    captured = sign(INBOUND, stop)
    assert post_with(client, INBOUND, stop, captured).status_code == 200
    assert sms(client, volunteer.phone or "", "START", OptOutType="START").status_code == 200
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active
    # Names and values are joined without a separator: NumMedia0 can move into the MessageSid.
    forged = {k: v for k, v in stop.items() if k != "NumMedia"}
    forged["MessageSid"] = stop["MessageSid"] + "NumMedia" + stop["NumMedia"]
    assert sign(INBOUND, forged) == captured
    answer = post_with(client, INBOUND, forged, captured)
    assert 400 <= answer.status_code < 500
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active


def retokenised(form: dict[str, str]) -> list[dict[str, str]]:
    """Every form that moves one name/value boundary by up to 4 characters and still signs the same.

    Twilio signs the URL followed by name+value of each field in name order, with no separator, so
    any other way of cutting that string into names and values in order is the same signature.
    """
    pairs = sorted(form.items())
    forged = []
    for i in range(len(pairs)):
        name, value = pairs[i]
        nxt = pairs[i + 1] if i + 1 < len(pairs) else None
        variants = []
        if nxt is not None:
            variants.append({name: value + nxt[0] + nxt[1]} | {"__drop__": nxt[0]})  # swallow the next
            for n in range(1, 5):
                variants.append({name: value + nxt[0][:n], nxt[0][n:]: nxt[1], "__drop__": nxt[0]})
        for n in range(1, min(5, len(value))):
            variants.append({name: value[:-n], "__next__": value[-n:]})  # value's tail joins the next name
        for variant in variants:
            candidate = dict(pairs)
            candidate.pop(variant.pop("__drop__", ""), None)
            tail = variant.pop("__next__", None)
            if tail is not None:
                if nxt is None:
                    continue
                candidate.pop(nxt[0])
                candidate[tail + nxt[0]] = nxt[1]
            candidate.update(variant)
            if "" in candidate or candidate == form:
                continue
            if sign(INBOUND, candidate) == sign(INBOUND, form) and candidate not in forged:
                forged.append(candidate)
    return forged


def refused(answer: Response) -> bool:
    return 400 <= answer.status_code < 500 and answer.headers["content-type"] == "application/problem+json"


def test_forged_webhooks_are_all_refused_and_recorded_without_personal_data(
    client: TestClient, coordinator: dict[str, str], db: Session
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    phone = volunteer.phone or ""
    stop = sms_form(phone, "STOP", OptOutType="STOP", SmsSid="", NumSegments="1")
    stop["SmsSid"] = stop["MessageSid"]
    captured = sign(INBOUND, stop)
    assert post_with(client, INBOUND, stop, captured).status_code == 200
    assert sms(client, phone, "START", OptOutType="START").status_code == 200
    status = receipt_form(new_sid(), "undelivered", "21610")
    captured_status = sign(STATUS, status)
    assert post_with(client, STATUS, status, captured_status).status_code == 204

    attempts: list[tuple[str, dict[str, str], str]] = [(INBOUND, f, captured) for f in retokenised(stop)]
    attempts += [(STATUS, f, captured_status) for f in retokenised_for(STATUS, status)]
    attempts.append((INBOUND, stop, captured))  # the captured STOP itself, again
    attempts.append((STATUS, status, captured_status))
    fresh = sms_form(phone, "STOP", OptOutType="STOP")
    base = os.environ["PUBLIC_BASE_URL"]
    portless = base.rsplit(":", 1)[0]
    assert portless != base
    attempts.append((INBOUND, fresh, sign(INBOUND, fresh, base=portless)))  # twilio's validate() takes it
    attempts.append((INBOUND, fresh, sign(INBOUND, fresh, token="guessed-token")))
    attempts.append((INBOUND, fresh, ""))
    attempts.append((INBOUND, fresh, "x" * 500))
    answers = [post_with(client, path, form, signature) for path, form, signature in attempts]

    tried, refusals = len(answers), sum(refused(a) for a in answers)
    print(f"forged webhooks: {refusals} refused of {tried} tried")
    assert tried >= 30 and refusals == tried, [a.status_code for a in answers]
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.refused")).all()
    assert len(events) == tried
    recorded = " ".join(str(e.detail) for e in events)
    assert phone not in recorded and phone[1:] not in recorded and "STOP" not in recorded


def retokenised_for(path: str, form: dict[str, str]) -> list[dict[str, str]]:
    """retokenised() for another path (the URL is part of what is signed, not of the boundaries)."""
    return [f for f in retokenised(form) if sign(path, f) == sign(path, form)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"MessageSid": "SM" + "0" * 31}, "MessageSid"),
        ({"MessageSid": "XX" + "0" * 32}, "MessageSid"),
        ({"MessageSid": "SM" + "A" * 32}, "MessageSid"),
        ({"AccountSid": "AC" + "1" * 32}, "AccountSid"),
        ({"AccountSid": "not-an-account"}, "AccountSid"),
        ({"From": "07911123456"}, "From"),
        ({"From": "+44 7911 123456"}, "From"),
        ({"To": "+0"}, "To"),
        ({"Body": "x" * 1601}, "Body"),
        ({"Body": "YES\x00"}, "Body"),
        ({"SmsStatus": "delivered"}, "SmsStatus"),
        ({"OptOutType": "UNSUBSCRIBE"}, "OptOutType"),
        ({"NumMedia": "0NumSegments1"}, "NumMedia"),
        ({"SmsSid": "SM" + "f" * 32}, "SmsSid"),
        ({"ApiVersion": "2099-01-01"}, "ApiVersion"),
        ({"FromCity": "x" * 300}, "FromCity"),
        ({"lowercase": "1"}, "lowercase"),
    ],
)
def test_signed_inbound_fields_must_have_twilios_shape(
    client: TestClient, db: Session, change: dict[str, str], field: str
) -> None:
    volunteer = add_volunteer(db, km=1)
    db.commit()
    answer = signed_post(client, INBOUND, sms_form(volunteer.phone or "", "STOP") | change)
    assert answer.status_code == 422 and refused(answer)
    assert field in answer.json()["detail"]
    db.refresh(volunteer)
    assert volunteer.status is VolunteerStatus.active


@pytest.mark.parametrize(
    "change",
    [
        {"MessageStatus": "exploded"},
        {"ErrorCode": "30006x"},
        {"ErrorCode": "123456"},
        {"MessageSid": "SMshort"},
        {"AccountSid": "AC" + "2" * 32},
        {"From": "not a sender id at all"},
    ],
)
def test_signed_receipt_fields_must_have_twilios_shape(client: TestClient, change: dict[str, str]) -> None:
    answer = signed_post(client, STATUS, receipt_form(new_sid(), "delivered") | change)
    assert answer.status_code == 422 and refused(answer)


def test_missing_fields_are_refused(client: TestClient) -> None:
    form = {"MessageSid": new_sid(), "AccountSid": os.environ["TWILIO_ACCOUNT_SID"], "Body": "YES"}
    answer = signed_post(client, INBOUND, form)
    assert answer.status_code == 422 and "From" in answer.json()["detail"]
