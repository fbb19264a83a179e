"""Jobs that act on stored webhooks: inbound SMS one sender at a time in order, receipts in bulk."""

from app.db import unit_of_work
from app.webhook import inbox


def process_inbound() -> int:
    """Act on every stored inbound SMS, oldest first, one sender at a time; returns how many."""
    inbox.job_started(inbox.INBOUND_QUEUED)
    with unit_of_work() as session:
        return inbox.act_on_stored(session)


def apply_receipts() -> int:
    """Apply every stored receipt whose message we know, a batch per transaction; returns messages."""
    inbox.job_started(inbox.RECEIPTS_QUEUED)
    total = 0
    while True:
        with unit_of_work() as session:
            applied = inbox.apply_receipt_batch(session)
        total += applied
        if applied == 0:
            return total


def recover() -> dict[str, int]:
    """Queue again the stored webhooks nobody acted on (the reconciler calls this every pass)."""
    with unit_of_work() as session:
        return inbox.recover(session)
