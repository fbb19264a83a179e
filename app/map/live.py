"""Live map updates: what changed since a client's last poll, as Server-Sent Events.

Each connection polls the database about once a second with a short session of its own, so a stream
holds no connection while it waits, and the database stays the one source of truth (nothing to lose
when Redis is wiped, nothing to publish from the mobilisation engine). Only changes are sent:
- `incident`: a FeatureCollection of an incident (with per-need counts) and its rendezvous point, when
  its counts or status change (every role);
- `callouts`: a FeatureCollection of call-ups whose status changed (coordinators only; people no longer
  engaged come without a position, so the map drops them);
- `revoked`: the token was revoked; the stream ends.
"""

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken
from app.callout.models import Callout
from app.incident.models import Incident, IncidentStatus, Need
from app.map.geojson import collection, features_array
from app.map.scope import Scope
from app.map.service import callout_rows, incident_feature, rendezvous_feature, visible_incidents

POLL_S = 1.0
# Call-ups are found by `updated_at`, stamped at the start of the writer's transaction, which may commit
# after a later poll: looking back this far (and remembering what was sent) misses none of them.
LOOKBACK = timedelta(seconds=30)

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event: a name and its JSON text."""

    name: str
    data: str


@dataclass
class LiveFeed:
    """One client's stream: its scope and what it has been told, so each poll sends only changes."""

    scope: Scope
    incident_id: int | None = None
    closed: bool = False
    _incidents: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    _callouts: dict[int, str] = field(default_factory=dict)
    _since: datetime | None = None

    def poll(self, session: Session) -> list[Event]:
        """Everything that changed since the last poll (on the first, the state of every incident)."""
        token = session.execute(select(ApiToken.revoked_at).where(ApiToken.id == self.scope.token_id)).first()
        if token is None or token.revoked_at is not None:
            self.closed = True
            return [Event("revoked", json.dumps({"detail": "the token was revoked; sign in again"}))]
        now = session.scalar(select(func.now()))
        assert now is not None
        incidents = self._watched(session)
        events = self._incident_events(session, incidents)
        if not self.scope.aggregates_only:
            events += self._callout_events(session, [i.id for i in incidents], since=self._since or now)
        self._since = now
        return events

    def _watched(self, session: Session) -> list[Incident]:
        """Open incidents in scope, and any this client was told about (to report that they closed)."""
        ids = [self.incident_id] if self.incident_id is not None else None
        watched = visible_incidents(session, scope=self.scope, status=IncidentStatus.open, ids=ids)
        gone = set(self._incidents) - {i.id for i in watched}
        if gone:
            watched += visible_incidents(session, scope=self.scope, status=None, ids=sorted(gone))
        return watched

    def _incident_events(self, session: Session, incidents: list[Incident]) -> list[Event]:
        """An `incident` event for each incident whose needs, counts or status differ from what was sent."""
        if not incidents:
            return []
        ids = [i.id for i in incidents]
        counts: dict[int, list[tuple[Any, ...]]] = {}
        for incident_id, need_id, status, n in session.execute(
            select(Callout.incident_id, Callout.need_id, Callout.status, func.count())
            .where(Callout.incident_id.in_(ids))
            .group_by(Callout.incident_id, Callout.need_id, Callout.status)
            .order_by(Callout.incident_id, Callout.need_id, Callout.status)
        ):
            counts.setdefault(incident_id, []).append((need_id, status.value, n))
        needs: dict[int, list[tuple[Any, ...]]] = {}
        for need in session.scalars(select(Need).where(Need.incident_id.in_(ids)).order_by(Need.id)):
            needs.setdefault(need.incident_id, []).append(
                (need.id, need.count, need.waves, need.search_radius_km, need.exhausted_at, need.filled_at)
            )
        events = []
        for incident in incidents:
            state = (incident.status, incident.updated_at, tuple(needs.get(incident.id, [])))
            state += tuple(counts.get(incident.id, []))
            if self._incidents.get(incident.id) != state:
                self._incidents[incident.id] = state
                if incident.status is not IncidentStatus.open:
                    del self._incidents[incident.id]  # told once that it closed; no longer watched
                features = [incident_feature(session, incident), rendezvous_feature(incident)]
                body = {"type": "FeatureCollection", "features": [f for f in features if f is not None]}
                events.append(Event("incident", json.dumps(body)))
        return events

    def _callout_events(self, session: Session, incident_ids: list[int], *, since: datetime) -> list[Event]:
        """One `callouts` event with every call-up whose status changed since it was last sent."""
        if not incident_ids:
            return []
        recent = select(Callout.id, Callout.status).where(
            Callout.incident_id.in_(incident_ids), Callout.updated_at > since - LOOKBACK
        )
        changed = {cid: status.value for cid, status in session.execute(recent)}
        changed = {cid: s for cid, s in changed.items() if self._callouts.get(cid) != s}
        if not changed:
            return []
        self._callouts.update(changed)
        rows = callout_rows(incident_ids=incident_ids, callout_ids=list(changed))
        return [Event("callouts", collection(features_array(session, rows)))]


def poll(feed: LiveFeed, sessions: SessionFactory) -> list[Event]:
    """One poll of `feed` in a short session of its own (run in a worker thread by the route)."""
    with sessions() as session:
        return feed.poll(session)
