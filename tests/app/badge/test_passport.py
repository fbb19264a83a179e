"""The passport as credentials: exported, then checked with PyJWT (not joserfc, which signs them) against
the published JWKS; rotation, revocation through the status list, tampering, the texted one-use link."""

import base64
import gzip
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.badge import keys
from app.badge import service as badges
from app.badge.models import IssuedBadge, PassportLink
from app.callout.models import Callout
from app.settings import get_settings
from app.volunteer.models import Credential, CredentialStatus, Volunteer
from app.volunteer.schemas import CredentialCreate, GeoPoint, VolunteerCreate, VolunteerUpdate
from app.volunteer.service import create_volunteer, update_volunteer
from tests.app.callout.test_service import declare, mark_sent, outbox
from tests.app.reserve import CARLISLE, next_phone
from tests.app.webhook.test_service import text
from tests.conftest import is_problem

CERTIFICATE = "CERT-998877-XYZ"
CHECKED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def holder(db: Session, *, expires_on: date | None = date(2099, 1, 1)) -> Volunteer:
    """A volunteer with a verified first-aid credential at level 3 (its verifier's note holds a
    certificate number) and an unverified chainsaw one."""
    data = VolunteerCreate(
        name="Ada Lovelace",
        phone=next_phone(),
        location=GeoPoint(type="Point", coordinates=list(CARLISLE)),
        skills=[
            CredentialCreate(
                code="first_aid",
                level=3,
                expires_on=expires_on,
                issued_by="St John Ambulance",
            ),
            CredentialCreate(code="chainsaw", expires_on=expires_on),
        ],
    )
    volunteer = create_volunteer(db, data=data, actor="test")
    verify(db, volunteer, "first_aid")
    db.commit()
    return volunteer


def verify(db: Session, volunteer: Volunteer, code: str) -> None:
    """Mark a credential verified as its organisation would, the verifier's note holding a certificate
    number (the passport's documents and page must never show it)."""
    db.execute(
        update(Credential)
        .where(Credential.volunteer_id == volunteer.id, Credential.skill_code == code)
        .values(
            status=CredentialStatus.verified, status_at=CHECKED, verified_at=CHECKED, verified_by=CERTIFICATE
        )
    )


def export(client: TestClient, volunteer: Volunteer, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.post(f"/api/v1/passport/volunteers/{volunteer.id}/credentials", headers=headers)
    assert response.status_code == 200, response.text
    exported: list[dict[str, Any]] = response.json()
    return exported


def independently_verified(client: TestClient, token: str) -> dict[str, Any]:
    """The payload, checked by PyJWT with the key the JWKS publishes under the JWS's kid."""
    published = client.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    [jwk] = [k for k in published["keys"] if k["kid"] == kid]
    key = jwt.PyJWK(jwk)
    payload: dict[str, Any] = jwt.decode(token, key=key, algorithms=["EdDSA"], options={"verify_aud": False})
    return payload


def bit_is_set(client: TestClient, status: dict[str, Any]) -> bool:
    """Fetch the status list credential, check its signature with PyJWT, read the bit (spec's order)."""
    url = status["statusListCredential"].removeprefix(str(client.base_url).rstrip("/"))
    url = re.sub(r"^https?://[^/]+", "", url)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    listed = independently_verified(client, response.text)
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    encoded = listed["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16 * 1024
    index = int(status["statusListIndex"])
    return bool(raw[index // 8] & (0x80 >> (index % 8)))


def check(client: TestClient, token: str) -> dict[str, Any]:
    response = client.post("/api/v1/passport/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_exported_credential_is_open_badges_3_and_verifies_with_an_independent_library(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = holder(db)
    [skill] = export(client, volunteer, coordinator)  # the unverified chainsaw entry is not issued
    header = jwt.get_unverified_header(skill["jws"])
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt" and header["kid"]
    document = independently_verified(client, skill["jws"])
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert "vc" not in document  # VC-JOSE: the credential is the claims set
    assert document["id"] == f"urn:uuid:{skill['id']}"
    assert document["issuer"]["name"] == "National Volunteer Reserve" and document["issuer"]["id"]
    assert document["validFrom"] == "2026-11-02T10:00:00Z"
    assert document["validUntil"] == "2099-01-02T00:00:00Z"  # the end of the UK day it expires
    subject = document["credentialSubject"]
    assert subject["achievement"]["name"] == "First aid"
    assert subject["result"][0]["value"] == "3"
    assert subject["identifier"][0]["identityHash"] == "Ada Lovelace"
    assert document["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert CERTIFICATE not in json.dumps(document) and volunteer.phone not in json.dumps(document)
    assert check(client, skill["jws"])["result"] == "valid"
    assert not bit_is_set(client, document["credentialStatus"])
    # Exporting again signs the same issued credential, not a new one.
    assert [c["id"] for c in export(client, volunteer, coordinator)] == [skill["id"]]


def test_the_jwks_publishes_no_private_part(client: TestClient, db: Session) -> None:
    keys.rotate(db)
    db.commit()
    for key in client.get("/api/v1/passport/keys").json()["keys"]:
        assert set(key) <= {"kty", "crv", "x", "kid", "use", "alg"}
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519"
    stored = db.scalars(select(keys.SigningKey.private_pem)).all()
    assert all(pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") for pem in stored)


def test_rotation_makes_a_new_current_key_and_old_signatures_still_verify(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = holder(db)
    [before] = export(client, volunteer, coordinator)
    keys.rotate(db)
    db.commit()
    [after] = export(client, volunteer, coordinator)
    old_kid = jwt.get_unverified_header(before["jws"])["kid"]
    new_kid = jwt.get_unverified_header(after["jws"])["kid"]
    assert old_kid != new_kid
    assert {old_kid, new_kid} <= {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    same = independently_verified(client, before["jws"])["id"]
    assert independently_verified(client, after["jws"])["id"] == same
    assert check(client, before["jws"])["result"] == "valid"
    assert check(client, after["jws"])["kid"] == new_kid


def test_a_revoked_credential_shows_revoked_in_the_status_list_and_when_checked(
    client: TestClient, db: Session, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    volunteer = holder(db)
    [skill] = export(client, volunteer, coordinator)
    status = independently_verified(client, skill["jws"])["credentialStatus"]
    refused = client.post(
        f"/api/v1/passport/credentials/{skill['id']}/revoke", json={"reason": "x"}, headers=coordinator
    )
    assert refused.status_code == 403
    response = client.post(
        f"/api/v1/passport/credentials/{skill['id']}/revoke",
        json={"reason": "certificate withdrawn by the issuer"},
        headers=admin,
    )
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert bit_is_set(client, status)
    answer = check(client, skill["jws"])
    assert answer["result"] == "revoked" and "certificate withdrawn" in answer["reasons"][0]
    # The next export issues it afresh, with a new bit.
    [again] = export(client, volunteer, coordinator)
    assert again["id"] != skill["id"] and check(client, again["jws"])["result"] == "valid"


def test_removing_or_changing_a_passport_entry_revokes_its_credential_at_once(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = holder(db)
    [skill] = export(client, volunteer, coordinator)
    update_volunteer(
        db,
        volunteer_id=volunteer.id,
        data=VolunteerUpdate(skills=[CredentialCreate(code="first_aid", level=1)]),
        actor="test",
    )
    db.commit()
    assert check(client, skill["jws"])["result"] == "revoked"
    assert export(client, volunteer, coordinator) == []  # a changed entry is pending until checked again
    verify(db, volunteer, "first_aid")
    db.commit()
    [changed] = export(client, volunteer, coordinator)
    assert independently_verified(client, changed["jws"])["credentialSubject"]["result"][0]["value"] == "1"
    update_volunteer(db, volunteer_id=volunteer.id, data=VolunteerUpdate(skills=[]), actor="test")
    db.commit()
    answer = check(client, changed["jws"])
    assert answer["result"] == "revoked" and "removed" in answer["reasons"][0]
    assert export(client, volunteer, coordinator) == []


def test_erasing_the_holder_revokes_everything_issued_to_them(
    client: TestClient, db: Session, coordinator: dict[str, str], admin: dict[str, str]
) -> None:
    volunteer = holder(db)
    [skill] = export(client, volunteer, coordinator)
    text(client, volunteer, "PASSPORT")
    assert client.delete(f"/api/v1/volunteers/{volunteer.id}", headers=admin).status_code == 204
    answer = check(client, skill["jws"])
    assert answer["result"] == "revoked"
    assert db.scalars(select(PassportLink).where(PassportLink.volunteer_id == volunteer.id)).all() == []


def test_a_credential_past_its_valid_until_is_expired_and_the_upkeep_pass_sets_its_bit(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = holder(db)
    [skill] = export(client, volunteer, coordinator)
    db.execute(update(IssuedBadge).values(valid_until=datetime.now(UTC) - timedelta(minutes=1)))
    db.commit()
    assert check(client, skill["jws"])["result"] == "expired"
    assert badges.revoke_lapsed(db) == 1
    db.commit()
    assert bit_is_set(client, independently_verified(client, skill["jws"])["credentialStatus"])


def test_a_tampered_credential_is_refused_and_garbage_is_a_422(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    [skill] = export(client, holder(db), coordinator)
    head, body, signature = skill["jws"].split(".")
    document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    document["credentialSubject"]["result"][0]["value"] = "5"
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    tampered = f"{head}.{forged}.{signature}"
    with pytest.raises(jwt.InvalidSignatureError):
        independently_verified(client, tampered)
    assert check(client, tampered)["result"] == "invalid_signature"
    unsigned = jwt.encode(document, "a-shared-secret-of-enough-length-here", algorithm="HS256")
    assert check(client, unsigned)["result"] == "invalid_signature"
    for garbage in ("hello", "a.b", "!!!.???.***", "a.b.c.d"):
        is_problem(client.post("/api/v1/passport/verify", json={"credential": garbage}), 422)
    is_problem(client.post("/api/v1/passport/verify", json={"credential": 12}), 422)


def test_hours_come_from_a_pluggable_source_and_are_reissued_when_they_change(
    client: TestClient, db: Session
) -> None:
    volunteer = holder(db)

    def three(session: Session, volunteer_id: int) -> badges.HoursRecord:
        return badges.HoursRecord(deployments=3, hours=12.5, source="counted by a test")

    signed = badges.export_passport(db, volunteer_id=volunteer.id, hours=three)
    db.commit()
    [hours] = [s for s in signed if s.badge.kind.value == "hours"]
    results = [r["value"] for r in independently_verified(client, hours.jws)["credentialSubject"]["result"]]
    assert results == ["3", "12.5"]
    assert badges.hours_given(db, volunteer.id).deployments == 0  # no call-ups yet
    signed = badges.export_passport(db, volunteer_id=volunteer.id)  # the passport's own: none, so none
    db.commit()
    assert [s.badge.kind.value for s in signed] == ["skill"]
    assert check(client, hours.jws)["result"] == "revoked"


def test_the_hours_credential_counts_the_passports_deployments_arrived_at_and_signed_off(
    client: TestClient, db: Session, coordinator: dict[str, str]
) -> None:
    volunteer = holder(db)
    incident = declare(client, coordinator)
    mark_sent(db)
    text(client, volunteer, "YES")
    arrived = datetime.now(UTC) - timedelta(hours=3)
    db.execute(
        update(Callout)
        .where(Callout.volunteer_id == volunteer.id, Callout.incident_id == incident["id"])
        .values(arrived_at=arrived, done_at=arrived + timedelta(hours=2, minutes=30))
    )
    db.commit()
    exported = export(client, volunteer, coordinator)
    [hours] = [c for c in exported if c["kind"] == "hours"]
    document = independently_verified(client, hours["jws"])
    assert [r["value"] for r in document["credentialSubject"]["result"]] == ["1", "2.5"]
    assert document["credentialSubject"]["achievement"]["achievementType"] == "CommunityService"
    assert "validUntil" not in document
    text(client, volunteer, "PASSPORT")
    page = client.post(link_of(db, volunteer)).text
    assert "1 deployment, 2.5 hours." in page and "10 hours" not in page  # no milestone yet


def link_of(db: Session, volunteer: Volunteer) -> str:
    body = outbox(db, volunteer)[-1].body
    found = re.search(r"(/passport/[A-Za-z0-9_-]+)", body)
    assert found, body
    return found.group(1)


def test_passport_texts_a_one_use_link_to_a_page_that_shows_levels_never_certificate_numbers(
    client: TestClient, db: Session
) -> None:
    volunteer = holder(db)
    text(client, volunteer, "PASSPORT")
    path = link_of(db, volunteer)
    token = path.rsplit("/", 1)[1]
    assert db.scalar(select(PassportLink.token_hash)) != token  # only a hash is kept
    opened = client.get(path)  # a link scanner fetching it does not spend it
    assert opened.status_code == 200 and "Show my passport" in opened.text
    assert "Content-Security-Policy" in opened.headers
    assert client.get(path).status_code == 200
    shown = client.post(path)
    assert shown.status_code == 200
    page = shown.text
    assert "Ada Lovelace" in page and "First aid" in page and "Level 3" in page
    assert "Chainsaw" not in page  # not verified
    assert CERTIFICATE not in page
    assert 'href="data:application/vc+jwt;base64,' in page
    assert "No deployments or activities on record yet." in page
    again = client.post(path)
    assert again.status_code == 404 and "text PASSPORT for a new one" in again.text
    assert client.get(path).status_code == 404


def test_a_passport_link_expires_after_fifteen_minutes(client: TestClient, db: Session) -> None:
    volunteer = holder(db)
    text(client, volunteer, "passport")
    link = db.scalar(select(PassportLink).where(PassportLink.volunteer_id == volunteer.id))
    assert link is not None
    assert timedelta(minutes=14) < link.expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    db.execute(update(PassportLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    assert client.post(link_of(db, volunteer)).status_code == 404


def test_passport_links_are_limited_to_a_few_an_hour(client: TestClient, db: Session) -> None:
    volunteer = holder(db)
    for _ in range(badges.LINKS_PER_HOUR):
        text(client, volunteer, "PASSPORT")
    text(client, volunteer, "PASSPORT")
    assert "several passport links" in outbox(db, volunteer)[-1].body
    assert len(db.scalars(select(PassportLink)).all()) == badges.LINKS_PER_HOUR


def test_every_status_list_can_be_fetched_and_one_past_the_last_is_a_404(client: TestClient) -> None:
    last = client.get("/api/v1/passport/status/16383")
    assert last.status_code == 200 and independently_verified(client, last.text)["id"].endswith("/16383")
    is_problem(client.get("/api/v1/passport/status/16384"), 422)


def test_a_key_unreadable_with_the_secret_is_a_503_and_leaves_the_link_unspent(
    client: TestClient, db: Session, coordinator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    volunteer = holder(db)
    keys.current(db)
    db.commit()
    text(client, volunteer, "PASSPORT")
    path = link_of(db, volunteer)
    secret = get_settings().badge_key_secret
    monkeypatch.setattr(get_settings(), "badge_key_secret", "another-secret-entirely")
    problem = is_problem(
        client.post(f"/api/v1/passport/volunteers/{volunteer.id}/credentials", headers=coordinator), 503
    )
    assert "nvr keys rotate" in problem["detail"]
    assert client.post(path).status_code == 503
    monkeypatch.setattr(get_settings(), "badge_key_secret", secret)
    assert client.post(path).status_code == 200  # the failure did not spend it
