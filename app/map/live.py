"""Live map updates: what changed since a client's last poll, as Server-Sent Events.

Each connection polls the database about once a second with a short session of its own, so a stream
holds no connection while it waits, and the database stays the one source of truth (nothing to lose
when Redis is wiped, nothing to publish from the mobilisation engine). Only changes are sent:
- `incident`: a FeatureCollection of an incident (with per-need counts) and its rendezvous point, when
  its counts or status change (every role);
- `callouts`: a FeatureCollection of call-ups whose status changed (coordinators only; people no longer
  engaged come without a position, so the map drops them), and, once, the confirmed people of an
  incident that closed (still accepted in the record, but without a position);
- `revoked`: the token was revoked; the stream ends.

Each stream costs a poll a second, so one token may hold at most `MAX_STREAMS_PER_TOKEN` at once
(`StreamSlots`, counted in Redis so every API process sees the same streams); one more is a 429.
"""

import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import ApiToken
from app.callout.models import Callout, CalloutStatus
from app.errors import TooManyRequests, Unavailable
from app.incident.models import Incident, IncidentStatus, Need
from app.map.geojson import collection, features_array
from app.map.scope import Scope
from app.map.service import callout_rows, incident_feature, rendezvous_feature, visible_incidents

POLL_S = 1.0
# Call-ups are found by `updated_at`, stamped at the start of the writer's transaction, which may commit
# after a later poll: looking back this far (and remembering what was sent) misses none of them.
LOOKBACK = timedelta(seconds=30)

MAX_STREAMS_PER_TOKEN = 3  # two browser tabs and a wall screen
SLOT_TTL_S = 30  # a slot whose stream stopped renewing it (its API process died) lapses after this

SessionFactory = Callable[[], AbstractContextManager[Session]]

# Drop lapsed slots, then take one if fewer than the limit are held: one step, so two API processes
# cannot both take the last slot.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True)
class StreamSlots:
    """Live streams open per token: a Redis sorted set of slot ids, scored by when each lapses."""

    redis: Redis
    limit: int = MAX_STREAMS_PER_TOKEN

    def take(self, token_id: int) -> str:
        """A slot for one more stream, or TooManyRequests when the token holds `limit` already."""
        slot = uuid.uuid4().hex
        now = time.time()
        try:
            taken = self.redis.eval(
                _TAKE, 1, _key(token_id), now, now + SLOT_TTL_S, self.limit, slot, SLOT_TTL_S * 2
            )
        except RedisError as exc:
            raise Unavailable("live updates are unavailable just now; the map still works") from exc
        if not taken:
            raise TooManyRequests(
                f"this token already has {self.limit} live map streams open; close one first",
                limit=self.limit,
            )
        return slot

    def renew(self, token_id: int, slot: str) -> None:
        """Keep a slot while its stream runs (a failed renewal only lets the slot lapse early)."""
        try:
            self.redis.zadd(_key(token_id), {slot: time.time() + SLOT_TTL_S}, xx=True)
        except RedisError:
            return

    def give_back(self, token_id: int, slot: str) -> None:
        """Free a slot when its stream ends."""
        try:
            self.redis.zrem(_key(token_id), slot)
        except RedisError:
            return

    def held(self, token_id: int) -> int:
        """Slots the token holds now, lapsed ones not counted."""
        return int(self.redis.zcount(_key(token_id), time.time(), "+inf"))


def _key(token_id: int) -> str:
    return f"nvr:live-streams:{token_id}"


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
    slot: str = ""  # its place among the token's streams (`StreamSlots`)
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
            closed = [i.id for i in incidents if i.status is not IncidentStatus.open]
            events += self._callout_events(
                session, [i.id for i in incidents], closed=closed, since=self._since or now
            )
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

    def _callout_events(
        self, session: Session, incident_ids: list[int], *, closed: list[int], since: datetime
    ) -> list[Event]:
        """One `callouts` event with every call-up whose status changed since it was last sent, and the
        confirmed people of incidents that just closed (still accepted, but no longer placed on the map)."""
        if not incident_ids:
            return []
        recent = select(Callout.id, Callout.status).where(
            Callout.incident_id.in_(incident_ids), Callout.updated_at > since - LOOKBACK
        )
        changed = {cid: status.value for cid, status in session.execute(recent)}
        changed = {cid: s for cid, s in changed.items() if self._callouts.get(cid) != s}
        ended = list(
            session.scalars(
                select(Callout.id).where(
                    Callout.incident_id.in_(closed), Callout.status == CalloutStatus.accepted
                )
            )
        )
        if not changed and not ended:
            return []
        self._callouts.update(changed)
        rows = callout_rows(incident_ids=incident_ids, callout_ids=sorted(set(changed) | set(ended)))
        return [Event("callouts", collection(features_array(session, rows)))]


def poll(feed: LiveFeed, sessions: SessionFactory) -> list[Event]:
    """One poll of `feed` in a short session of its own (run in a worker thread by the route)."""
    with sessions() as session:
        return feed.poll(session)
