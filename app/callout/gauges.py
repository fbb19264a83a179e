"""What the reserve's work looks like right now, read from the database and Redis when /metrics is
scraped: needs by state, messages waiting to go, and RQ's queue depths."""

from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.incident.models import Incident, IncidentStatus, Need
from app.message.models import Direction, Message, MessageStatus
from app.queue import QUEUE_ORDER, get_queue


@dataclass(frozen=True)
class Gauges:
    """Needs of open incidents by state, outbound SMS not yet with the provider, jobs per RQ queue
    (None when Redis cannot be read: the database figures still count)."""

    needs: dict[str, int]
    messages_waiting: int
    queue_depths: dict[str, int] | None


def read_gauges(session: Session, redis: Redis) -> Gauges:
    """The current figures; a few index-backed counts, cheap enough for a scrape every 15 s."""
    state = case(
        (Need.filled_at.is_not(None), "filled"),
        (Need.exhausted_at.is_not(None), "exhausted"),
        else_="open",
    )
    rows = session.execute(
        select(state, func.count())
        .join(Incident, Incident.id == Need.incident_id)
        .where(Incident.status == IncidentStatus.open)
        .group_by(state)
    ).all()
    counts: dict[str, int] = {name: count for name, count in rows}
    waiting = session.scalar(
        select(func.count()).where(
            Message.direction == Direction.outbound,
            Message.status.in_((MessageStatus.pending, MessageStatus.sending)),
        )
    )
    return Gauges(
        needs={name: counts.get(name, 0) for name in ("open", "filled", "exhausted")},
        messages_waiting=waiting or 0,
        queue_depths=_queue_depths(redis),
    )


def _queue_depths(redis: Redis) -> dict[str, int] | None:
    """Jobs waiting on each queue; None when Redis is down (Redis may be wiped: the database decides)."""
    try:
        return {name: get_queue(name, redis).count for name in QUEUE_ORDER}
    except RedisError:
        return None
