"""Which of our senders texts a person, and how fast each sender may go.

A provider limits each sending number (a UK long code about 10 segments a second, a short code about
100), so the service's rate is the sum over its pool. With our own list of numbers each person is given
one of them by a stable hash of their number: every message of a conversation comes from one sender,
so their replies reach the number they expect, and each sender has its own limit. Through a Twilio
Messaging Service without a list, Twilio picks the sender (its sticky sender keeps one per person), so
we cannot know which number a message leaves from: the pool then shares one limit of the whole pool's
rate."""

import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One rate limit of the pool, and the number to send from (None: the provider picks)."""

    key: str
    from_number: str | None


@dataclass(frozen=True)
class SenderPool:
    """Our senders: explicit numbers, or `size` numbers behind a Messaging Service (or one From)."""

    numbers: tuple[str, ...] = ()
    size: int = 1
    rate_per_sender: float = 10.0

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("a sender pool has at least one sender")
        if self.rate_per_sender <= 0:
            raise ValueError("rate_per_sender must be positive")
        if len(set(self.numbers)) != len(self.numbers):
            raise ValueError("a sender number is listed twice")

    @property
    def senders(self) -> int:
        """How many senders share the load."""
        return len(self.numbers) or self.size

    @property
    def slot_rate(self) -> float:
        """Segments a second one slot may send: a sender's rate, or the pool's when the provider picks."""
        return self.rate_per_sender if self.numbers else self.rate_per_sender * self.size

    @property
    def total_rate(self) -> float:
        """The service's whole sending rate, in segments a second."""
        return self.rate_per_sender * self.senders

    def slot_for(self, to: str) -> Slot:
        """The sender (and its limit) that texts this number, the same one every time."""
        if not self.numbers:
            return Slot(key="pool", from_number=None)
        number = self.numbers[zlib.crc32(to.encode()) % len(self.numbers)]
        return Slot(key=number, from_number=number)
