"""Every table, imported in one place so Alembic and tests see the whole schema."""

from app.activity.models import Activity, Milestone, activity_volunteers
from app.area.models import Area
from app.audit.models import AuditEvent
from app.auth.models import ApiToken
from app.badge.models import IssuedBadge, PassportLink, SigningKey
from app.callout.models import Callout
from app.check.models import BackgroundCheck
from app.db import Base
from app.inbox.models import InboxItem
from app.incident.models import Incident, Need
from app.map.models import CapacityCell, CapacityRefresh
from app.message.models import Message, Receipt
from app.organisation.models import Organisation
from app.passport.models import CredentialReview
from app.signup.models import PhoneCode, Signup
from app.skill.models import Skill
from app.volunteer.models import (
    AvailabilityWindow,
    Consent,
    Credential,
    UnavailablePeriod,
    Volunteer,
    volunteer_organisations,
)
from app.warning.models import IssuedWarning, WarningMessage
from app.webhook.models import InboundPending, WebhookSignature

__all__ = [
    "Activity",
    "ApiToken",
    "Area",
    "AuditEvent",
    "AvailabilityWindow",
    "BackgroundCheck",
    "Base",
    "Callout",
    "CapacityCell",
    "CapacityRefresh",
    "Consent",
    "Credential",
    "CredentialReview",
    "InboundPending",
    "InboxItem",
    "Incident",
    "IssuedBadge",
    "IssuedWarning",
    "Message",
    "Milestone",
    "Need",
    "Organisation",
    "PassportLink",
    "PhoneCode",
    "Receipt",
    "SigningKey",
    "Signup",
    "Skill",
    "UnavailablePeriod",
    "Volunteer",
    "WarningMessage",
    "WebhookSignature",
    "activity_volunteers",
    "volunteer_organisations",
]
