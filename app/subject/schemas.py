"""The whole subject-access export: the engine's part (app.callout.personal_data) and every other."""

from app.activity.schemas import DeploymentRead, HoursRead, MilestoneRead, PassportActivity
from app.check.schemas import CheckRead
from app.passport.schemas import ExportReview
from app.volunteer.schemas import ExportInboxItem, VolunteerExport


class SubjectExport(VolunteerExport):
    """Everything held on one person (a subject-access request), as JSON: profile, passport with every
    organisation's decision and the evidence it saw, disclosure checks with their numbers, hours,
    deployments, activities and milestones, call-ups, messages with receipts, inbox items and audit
    events."""

    inbox: list[ExportInboxItem]
    checks: list[CheckRead]
    reviews: list[ExportReview]
    hours: HoursRead
    deployments: list[DeploymentRead]
    activities: list[PassportActivity]
    milestones: list[MilestoneRead]
