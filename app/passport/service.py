"""Verification by organisations: a verifier's queue, and verifying or rejecting a credential.

An org_verifier token acts for one organisation and decides only credentials that are its to decide:
those of its members (volunteer_organisations) and those claiming it as issuer. Any other credential
does not exist for it (NotFound), so a verifier cannot learn who else is on the reserve. Every decision
is kept (CredentialReview) and audited; a rejection is texted to the volunteer with its reason.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from alerts import text
from app.audit.service import record
from app.auth.models import ApiToken, Role
from app.auth.service import actor_of
from app.errors import Conflict, Forbidden, NotFound
from app.message.models import MessageKind
from app.message.service import outbound, queue_all
from app.organisation.models import Organisation
from app.passport.models import CredentialReview, evidence_of
from app.passport.schemas import (
    ExportReview,
    Ground,
    RejectionCreate,
    VerificationCreate,
    VerificationItem,
    VerificationPage,
)
from app.skill.models import Skill
from app.volunteer.models import (
    Credential,
    CredentialStatus,
    Volunteer,
    VolunteerStatus,
    volunteer_organisations,
)

# Whom a rejection is not texted to: they asked for no texts, or nothing of them is left.
UNTEXTABLE = frozenset({VolunteerStatus.opted_out, VolunteerStatus.erased})


def organisation_of(session: Session, token: ApiToken) -> Organisation:
    """The organisation a verifier token acts for; any other token acts for none (403)."""
    if token.role is not Role.org_verifier or token.organisation_id is None:
        raise Forbidden(f"role {token.role.value} does not verify credentials for an organisation")
    organisation = session.get(Organisation, token.organisation_id)
    if organisation is None:  # the foreign key keeps it; a token outliving it acts for nobody
        raise Forbidden("this token's organisation no longer exists")
    return organisation


def acting_for(session: Session, token: ApiToken) -> Organisation | None:
    """The one organisation an organisation's token acts for, or None for a token that acts for the
    whole reserve (admins, coordinators)."""
    return organisation_of(session, token) if token.role is Role.org_verifier else None


def _member(organisation_id: int) -> ColumnElement[bool]:
    return exists().where(
        volunteer_organisations.c.volunteer_id == Credential.volunteer_id,
        volunteer_organisations.c.organisation_id == organisation_id,
    )


def in_scope(organisation_id: int) -> ColumnElement[bool]:
    """The credentials an organisation's verifier may see and decide: its members' and those naming it
    as issuer."""
    return or_(Credential.issued_by_id == organisation_id, _member(organisation_id))


def _items(organisation_id: int) -> Select[Any]:
    issuer = Organisation.__table__.alias("issuer")
    return (
        select(
            Credential,
            Volunteer.name,
            Skill.name,
            issuer.c.name,
            _member(organisation_id).label("member"),
        )
        .join(Volunteer, Volunteer.id == Credential.volunteer_id)
        .join(Skill, Skill.code == Credential.skill_code)
        .outerjoin(issuer, issuer.c.id == Credential.issued_by_id)
        .where(in_scope(organisation_id), Volunteer.status != VolunteerStatus.erased)
    )


def _item(row: Any, organisation_id: int) -> VerificationItem:
    credential, volunteer_name, skill_name, issuer_name, member = row
    grounds: list[Ground] = []
    if member:
        grounds.append("member")
    if credential.issued_by_id == organisation_id:
        grounds.append("issuer")
    return VerificationItem(
        credential_id=credential.id,
        volunteer_id=credential.volunteer_id,
        volunteer_name=volunteer_name,
        skill=credential.skill_code,
        skill_name=skill_name,
        level=credential.level,
        expires_on=credential.expires_on,
        validity=credential.validity,
        issued_by=issuer_name,
        status=credential.status,
        status_at=credential.status_at,
        grounds=grounds,
    )


def list_queue(session: Session, *, token: ApiToken, limit: int = 50, offset: int = 0) -> VerificationPage:
    """The pending credentials this verifier may decide, oldest claim first (a partial index on
    pending claims by time serves it)."""
    organisation = organisation_of(session, token)
    query = _items(organisation.id).where(Credential.status == CredentialStatus.pending)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Credential.status_at, Credential.id).limit(limit).offset(offset))
    return VerificationPage(
        organisation=organisation.name,
        items=[_item(row, organisation.id) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def get_item(session: Session, *, token: ApiToken, credential_id: int) -> VerificationItem:
    """One credential this verifier may see, in any state; any other is NotFound."""
    organisation = organisation_of(session, token)
    row = session.execute(_items(organisation.id).where(Credential.id == credential_id)).first()
    if row is None:
        raise NotFound(f"credential {credential_id} does not exist")
    return _item(row, organisation.id)


def _decidable(session: Session, *, organisation_id: int, credential_id: int) -> Credential:
    """The credential, locked, when this organisation may decide it; NotFound otherwise."""
    credential = session.scalar(
        select(Credential)
        .join(Volunteer, Volunteer.id == Credential.volunteer_id)
        .where(
            Credential.id == credential_id,
            in_scope(organisation_id),
            Volunteer.status != VolunteerStatus.erased,
        )
        .with_for_update(of=Credential)
    )
    if credential is None:
        raise NotFound(f"credential {credential_id} does not exist")
    return credential


def _decide(
    session: Session,
    credential: Credential,
    *,
    organisation: Organisation,
    actor: str,
    decision: CredentialStatus,
    evidence: dict[str, Any],
    reason: str | None,
) -> None:
    now: datetime = session.execute(select(func.now())).scalar_one()
    credential.status = decision
    credential.status_at = now
    credential.verified_at = now if decision is CredentialStatus.verified else None
    credential.verified_by = actor if decision is CredentialStatus.verified else None
    session.add(
        CredentialReview(
            credential_id=credential.id,
            decision=decision,
            organisation_id=organisation.id,
            actor=actor,
            decided_at=now,
            evidence=evidence,
            reason=reason,
        )
    )
    # Ids and codes only: the evidence and the reason stay with the credential, which erasure deletes.
    record(
        session,
        actor=actor,
        action=f"credential.{decision.value}",
        entity_type="credential",
        entity_id=credential.id,
        detail={
            "volunteer_id": credential.volunteer_id,
            "skill": credential.skill_code,
            "organisation_id": organisation.id,
        },
    )
    session.flush()
    session.refresh(credential)


def verify(
    session: Session, *, token: ApiToken, credential_id: int, data: VerificationCreate
) -> VerificationItem:
    """Verify a credential on the evidence seen; from then on it counts wherever the skill needs
    verification. One already verified is a conflict: nothing new was checked."""
    organisation = organisation_of(session, token)
    credential = _decidable(session, organisation_id=organisation.id, credential_id=credential_id)
    if credential.status is CredentialStatus.verified:
        raise Conflict(f"credential {credential_id} is already verified")
    evidence = evidence_of(
        certificate_number=data.certificate_number, course=data.course, certified_on=data.certified_on
    )
    _decide(
        session,
        credential,
        organisation=organisation,
        actor=actor_of(token),
        decision=CredentialStatus.verified,
        evidence=evidence,
        reason=None,
    )
    return get_item(session, token=token, credential_id=credential_id)


def reject(
    session: Session, *, token: ApiToken, credential_id: int, data: RejectionCreate
) -> VerificationItem:
    """Reject a credential (pending, or verified and found wanting) with a reason, and text the
    volunteer that reason; it no longer counts for any skill. Rejecting twice is a conflict."""
    organisation = organisation_of(session, token)
    credential = _decidable(session, organisation_id=organisation.id, credential_id=credential_id)
    if credential.status is CredentialStatus.rejected:
        raise Conflict(f"credential {credential_id} is already rejected")
    _decide(
        session,
        credential,
        organisation=organisation,
        actor=actor_of(token),
        decision=CredentialStatus.rejected,
        evidence={},
        reason=data.reason,
    )
    volunteer = session.get_one(Volunteer, credential.volunteer_id)
    skill = session.get_one(Skill, credential.skill_code)
    if volunteer.phone is not None and volunteer.status not in UNTEXTABLE:
        body = text.credential_rejected_text(
            skill=skill.name, organisation=organisation.name, reason=data.reason
        )
        queue_all(
            session,
            [
                outbound(
                    volunteer_id=volunteer.id,
                    to=volunteer.phone,
                    kind=MessageKind.credential_rejected,
                    body=body,
                )
            ],
        )
    return get_item(session, token=token, credential_id=credential_id)


def reviews_of(session: Session, *, volunteer_id: int) -> list[ExportReview]:
    """Every decision organisations made on a person's credentials, oldest first."""
    rows = session.execute(
        select(CredentialReview, Credential.skill_code, Organisation.name)
        .join(Credential, Credential.id == CredentialReview.credential_id)
        .join(Organisation, Organisation.id == CredentialReview.organisation_id)
        .where(Credential.volunteer_id == volunteer_id)
        .order_by(CredentialReview.decided_at, CredentialReview.id)
    ).all()
    return [
        ExportReview(
            credential_id=review.credential_id,
            skill=skill,
            decision=review.decision,
            organisation=organisation,
            actor=review.actor,
            decided_at=review.decided_at,
            evidence=review.evidence,
            reason=review.reason,
        )
        for review, skill, organisation in rows
    ]
