"""Message table."""

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Direction(enum.StrEnum):
    """Which way a message went."""

    outbound = "outbound"
    inbound = "inbound"


class MessageKind(enum.StrEnum):
    """Why a message exists."""

    callup = "callup"
    confirmation = "confirmation"
    not_needed = "not_needed"
    standdown = "standdown"
    declined_ack = "declined_ack"
    ask_reference = "ask_reference"
    help = "help"
    unknown_reply = "unknown_reply"
    no_open_callup = "no_open_callup"
    opted_in = "opted_in"
    reply = "reply"
    update = "update"  # a coordinator's update or a moved rendezvous, to everyone confirmed
    checkin_ack = "checkin_ack"
    welfare_check = "welfare_check"
    coordinator_text = "coordinator_text"
    # Joining and looking after oneself (issue 12): codes and answers to the volunteer's own commands.
    verification_code = "verification_code"  # a one-time code for joining (a sign-up or its update)
    leave_code = "leave_code"  # the code that confirms LEAVE: an answer, sent with the answers
    join_link = "join_link"  # the answer to JOIN from a phone we do not know
    welcome = "welcome"
    self_service = "self_service"  # the answer to PAUSE, BACK, STATUS or LEAVE
    left = "left"  # the last message after LEAVE: everything we held is erased
    # Keeping the reserve alive: information, sent after call-ups.
    expiry_reminder = "expiry_reminder"
    availability_check = "availability_check"
    marked_inactive = "marked_inactive"
    number_update = "number_update"  # asks a volunteer whose number failed to send us a new one
    milestone = "milestone"  # thanks a volunteer for reaching 10, 25, 50... hours (app/activity)
    credential_rejected = "credential_rejected"  # an organisation did not verify a passport entry: why


class MessageStatus(enum.StrEnum):
    """Delivery state. Outbound moves forward only: pending, sending, queued/sent, delivered;
    or ends failed/undelivered/cancelled. Inbound messages are `received`."""

    pending = "pending"
    sending = "sending"
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"
    cancelled = "cancelled"
    received = "received"


# Higher rank never moves back to a lower one (receipts arrive twice and out of order).
STATUS_RANK = {
    MessageStatus.pending: 0,
    MessageStatus.sending: 1,
    MessageStatus.queued: 2,
    MessageStatus.sent: 3,
    MessageStatus.delivered: 4,
    MessageStatus.undelivered: 5,
    MessageStatus.failed: 5,
    MessageStatus.cancelled: 6,
    MessageStatus.received: 6,
}

# Call-ups, answers and coordinators' updates to volunteers go first; stand-downs and information after.
HIGH_PRIORITY_KINDS = frozenset(
    {
        MessageKind.callup,
        MessageKind.confirmation,
        MessageKind.ask_reference,
        MessageKind.help,
        MessageKind.unknown_reply,
        MessageKind.no_open_callup,
        MessageKind.opted_in,
        MessageKind.declined_ack,
        MessageKind.update,  # "go to X instead" must reach people before they get to the old place
        MessageKind.checkin_ack,
        MessageKind.coordinator_text,
        MessageKind.join_link,
        MessageKind.self_service,
        MessageKind.leave_code,
        MessageKind.left,
    }
)

# SMS that carry a one-time code: asked for by the person, and their code's minutes start when sent.
CODE_KINDS = frozenset({MessageKind.verification_code, MessageKind.leave_code})

# Joining at /join: on their own queue after everything else (app/message/service.py queue_for).
JOINING_KINDS = frozenset({MessageKind.verification_code, MessageKind.welcome})


class Message(Base):
    """One SMS, in or out, linked to its call-up when it has one."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_callout", "callout_id"),
        Index("ix_messages_volunteer", "volunteer_id"),
        Index(
            "ix_messages_unsent",
            "status",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction] = mapped_column(Enum(Direction, name="message_direction"))
    kind: Mapped[MessageKind] = mapped_column(Enum(MessageKind, name="message_kind"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    callout_id: Mapped[int | None] = mapped_column(ForeignKey("callouts.id", ondelete="SET NULL"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    to_number: Mapped[str] = mapped_column(String(40))
    from_number: Mapped[str] = mapped_column(String(40), default="")
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[MessageStatus] = mapped_column(Enum(MessageStatus, name="message_status"))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The lease of a `sending` message: which worker process holds it, and until when (database clock).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Receipt(Base):
    """Every delivery receipt as received, kept even when it arrives before we know its message's SID."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("provider_sid", "status", name="uq_receipts_sid_status"),
        Index("ix_receipts_unapplied", "provider_sid", postgresql_where=text("NOT applied")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
