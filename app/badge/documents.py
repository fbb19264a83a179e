"""The credential documents: Open Badges 3.0 on the W3C Verifiable Credentials Data Model 2.0.

Each is the whole JWT claims set of its VC-JOSE envelope (no `vc` claim). What a document states about a
person is their name, as an OB 3.0 IdentityObject, and what they hold: never a phone, a home or a
certificate number.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
TYP = "vc+jwt"  # VC-JOSE-COSE: the media type application/vc+jwt
CTY = "vc"


def instant(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second, as the data model asks."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Issuer:
    """Who signs: the service, named in settings, identified by its profile's address."""

    id: str
    name: str

    def profile(self) -> dict[str, Any]:
        """The OB 3.0 Profile of the issuer."""
        return {"id": self.id, "type": ["Profile"], "name": self.name}


@dataclass(frozen=True)
class Envelope:
    """What every credential we issue shares: its id, dates and status entry."""

    credential_id: str
    valid_from: datetime
    valid_until: datetime | None
    status_list_url: str


def _credential(
    issuer: Issuer, envelope: Envelope, *, name: str, subject: dict[str, Any], bit: int
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": envelope.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": issuer.profile(),
        "validFrom": instant(envelope.valid_from),
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": {
            "id": f"{envelope.status_list_url}#{bit}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(bit),
            "statusListCredential": envelope.status_list_url,
        },
    }
    if envelope.valid_until is not None:
        document["validUntil"] = instant(envelope.valid_until)
    return document


def _holder(name: str) -> list[dict[str, Any]]:
    return [{"type": "IdentityObject", "identityHash": name, "identityType": "name", "hashed": False}]


@dataclass(frozen=True)
class SkillFacts:
    """A verified passport entry, as a credential states it."""

    holder: str
    achievement_id: str
    skill_name: str
    skill_description: str
    level: int
    checked_by: str | None  # the organisation that issued the certificate, when we know it


def skill_credential(issuer: Issuer, envelope: Envelope, facts: SkillFacts, *, bit: int) -> dict[str, Any]:
    """An OpenBadgeCredential for one verified skill at its level."""
    checked = f"; certificate from {facts.checked_by}" if facts.checked_by else ""
    achievement = {
        "id": facts.achievement_id,
        "type": ["Achievement"],
        "achievementType": "Competency",
        "name": facts.skill_name,
        "description": facts.skill_description or facts.skill_name,
        "criteria": {
            "narrative": f"Held at a level from 1 to 5 and checked by {issuer.name} before it counts "
            "for call-ups; it stops counting on its expiry date."
        },
        "resultDescription": [
            {
                "id": f"{facts.achievement_id}#level",
                "type": ["ResultDescription"],
                "name": "Level",
                "resultType": "PerformanceLevel",
                "allowedValue": ["1", "2", "3", "4", "5"],
            }
        ],
    }
    subject = {
        "type": ["AchievementSubject"],
        "identifier": _holder(facts.holder),
        "achievement": achievement,
        "result": [
            {
                "type": ["Result"],
                "resultDescription": f"{facts.achievement_id}#level",
                "value": str(facts.level),
            }
        ],
    }
    document = _credential(
        issuer, envelope, name=f"{facts.skill_name} (level {facts.level})", subject=subject, bit=bit
    )
    document["evidence"] = [
        {
            "type": ["Evidence"],
            "name": "Checked by the reserve",
            "description": f"Seen and recorded by {issuer.name} on {envelope.valid_from:%d %B %Y}{checked}.",
        }
    ]
    return document


@dataclass(frozen=True)
class HoursFacts:
    """A volunteer's record of deployments and hours, and where the figures come from."""

    holder: str
    achievement_id: str
    deployments: int
    hours: float
    source: str


def hours_credential(issuer: Issuer, envelope: Envelope, facts: HoursFacts, *, bit: int) -> dict[str, Any]:
    """An OpenBadgeCredential for the hours given: deployments and hours as results."""
    achievement = {
        "id": facts.achievement_id,
        "type": ["Achievement"],
        "achievementType": "CommunityService",
        "name": f"Deployments with the {issuer.name}",
        "description": "Emergency deployments a volunteer was called up for, went to and was signed "
        "off from.",
        "criteria": {"narrative": facts.source},
        "resultDescription": [
            {
                "id": f"{facts.achievement_id}#{part}",
                "type": ["ResultDescription"],
                "name": name,
                "resultType": "RawScore",
            }
            for part, name in (("deployments", "Deployments"), ("hours", "Hours on deployment"))
        ],
    }
    subject = {
        "type": ["AchievementSubject"],
        "identifier": _holder(facts.holder),
        "achievement": achievement,
        "result": [
            {
                "type": ["Result"],
                "resultDescription": f"{facts.achievement_id}#deployments",
                "value": str(facts.deployments),
            },
            {
                "type": ["Result"],
                "resultDescription": f"{facts.achievement_id}#hours",
                "value": f"{facts.hours:g}",
            },
        ],
    }
    name = f"{facts.deployments} deployment{'s' if facts.deployments != 1 else ''}, {facts.hours:g} hours"
    return _credential(issuer, envelope, name=name, subject=subject, bit=bit)


def status_list_credential(
    issuer: Issuer, *, url: str, encoded_list: str, valid_from: datetime, valid_until: datetime
) -> dict[str, Any]:
    """The BitstringStatusListCredential of one list (revocation)."""
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.profile(),
        "validFrom": instant(valid_from),
        "validUntil": instant(valid_until),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }
