"""A subject-access request answered from every package that holds something on the person.

The engine gathers what it and the reserve hold (app.callout.personal_data); this layer, above the
inbox, the passport and the hours, adds theirs, so no package below has to know about those above it.
"""

from sqlalchemy.orm import Session

from app.activity import service as activities
from app.callout import personal_data
from app.check import service as checks
from app.inbox import service as inbox
from app.passport import service as passport
from app.subject.schemas import SubjectExport


def export_volunteer(session: Session, *, volunteer_id: int) -> SubjectExport:
    """Everything held on one person (see `SubjectExport`); NotFound for an unknown id."""
    core = personal_data.export_volunteer(session, volunteer_id=volunteer_id)
    card = activities.passport(session, volunteer_id=volunteer_id)
    return SubjectExport(
        **dict(core),
        inbox=inbox.items_of(session, volunteer_id=volunteer_id),
        checks=checks.list_checks(session, volunteer_id=volunteer_id, reader=checks.Reader(None, True)),
        reviews=passport.reviews_of(session, volunteer_id=volunteer_id),
        hours=card.hours,
        deployments=card.deployments,
        activities=card.activities,
        milestones=card.milestones,
    )
