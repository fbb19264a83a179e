"""Token lifecycle: names that fit the audit trail, areas that exist, expiry, revocation, last use."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import ApiToken, Role
from app.auth.service import (
    MAX_NAME_LENGTH,
    actor_of,
    create_token,
    find_token,
    list_tokens,
    revoke_token,
)
from app.errors import Conflict, InvalidInput, NotFound
from tests.app.api.test_volunteers import volunteer_body
from tests.app.mapdata import CARLISLE, add_area


def test_the_longest_name_allowed_still_fits_the_audit_trail_with_the_largest_id(db: Session) -> None:
    token = ApiToken(id=2**31 - 1, name="n" * MAX_NAME_LENGTH, role=Role.admin, token_hash="x" * 64)
    assert len(actor_of(token)) == AuditEvent.__table__.c.actor.type.length


def test_a_token_with_the_longest_name_can_write_the_audit_trail(client: TestClient, db: Session) -> None:
    token = create_token(db, name="N" * MAX_NAME_LENGTH, role=Role.coordinator)
    db.commit()
    response = client.post(
        "/api/v1/volunteers", json=volunteer_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    actors = db.scalars(select(AuditEvent.actor).where(AuditEvent.entity_id == response.json()["id"]))
    assert any(a.endswith("N" * MAX_NAME_LENGTH) for a in actors)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a" * 118, "at most"),
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("duty\ncoordinator", "control"),
        ("duty\x00", "control"),
        ("duty\u200bcoordinator", "control"),  # zero-width space
    ],
)
def test_bad_names_are_refused(db: Session, name: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        create_token(db, name=name, role=Role.admin)


def test_names_are_stored_without_surrounding_spaces(db: Session) -> None:
    secret = create_token(db, name="  Duty coordinator ", role=Role.coordinator)
    found = find_token(db, token=secret)
    assert found is not None and found.name == "Duty coordinator"


def test_an_area_must_exist_and_only_a_forum_viewer_takes_one(db: Session) -> None:
    with pytest.raises(InvalidInput, match="E48999999 does not exist"):
        create_token(db, name="lost", role=Role.lrf_viewer, area_code="E48999999")
    with pytest.raises(InvalidInput, match="must be bound to one area"):
        create_token(db, name="unbound", role=Role.lrf_viewer)
    add_area(db, "HOME", CARLISLE)
    for role in (Role.admin, Role.coordinator):
        with pytest.raises(InvalidInput, match="only for lrf_viewer"):
            create_token(db, name="wide", role=role, area_code="HOME")
    create_token(db, name="forum", role=Role.lrf_viewer, area_code="HOME")
    assert ("forum", "HOME") in [(t.name, t.area_code) for t in list_tokens(db)]


def test_an_expired_token_is_refused(db: Session) -> None:
    token = create_token(db, name="short", role=Role.admin, expires_in_days=1)
    found = find_token(db, token=token)
    assert found is not None and found.expires_at is not None
    in_a_day = db.scalar(text("select now() + interval '1 day'"))
    assert abs((found.expires_at - in_a_day).total_seconds()) < 5
    db.execute(
        update(ApiToken).where(ApiToken.id == found.id).values(expires_at=text("now() - interval '1 s'"))
    )
    assert find_token(db, token=token) is None
    with pytest.raises(InvalidInput, match="at least one day"):
        create_token(db, name="none", role=Role.admin, expires_in_days=0)


def test_an_expired_token_gets_401(client: TestClient, db: Session) -> None:
    token = create_token(db, name="short", role=Role.admin, expires_in_days=1)
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/volunteers", headers=headers).status_code == 200
    db.execute(
        update(ApiToken).where(ApiToken.name == "short").values(expires_at=text("now() - interval '1 s'"))
    )
    db.commit()
    response = client.get("/api/v1/volunteers", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "expired" in response.json()["detail"]


def test_revoking_by_id_or_name(db: Session) -> None:
    first = create_token(db, name="laptop", role=Role.admin)
    create_token(db, name="laptop", role=Role.coordinator)
    other = create_token(db, name="phone", role=Role.coordinator)
    with pytest.raises(Conflict, match="2 live tokens are named 'laptop'"):
        revoke_token(db, name="laptop", actor="cli")
    with pytest.raises(NotFound):
        revoke_token(db, name="nobody", actor="cli")
    with pytest.raises(NotFound):
        revoke_token(db, token_id=999_999, actor="cli")
    with pytest.raises(InvalidInput):
        revoke_token(db, actor="cli")
    first_row = find_token(db, token=first)
    assert first_row is not None
    by_id = revoke_token(db, token_id=first_row.id, actor="cli")
    assert find_token(db, token=first) is None
    by_name = revoke_token(db, name="laptop", actor="cli")  # the only live one left
    assert by_name.id != by_id.id and by_name.revoked_at is not None
    again = revoke_token(db, token_id=by_id.id, actor="cli")
    assert again.revoked_at == by_id.revoked_at
    assert find_token(db, token=other) is not None
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoked")).all()
    assert sorted(e.entity_id for e in events) == sorted([by_id.id, by_name.id])
