"""The sender pool: one sender per conversation, each its own rate, the service the sum."""

import pytest

from alerts.pool import SenderPool

NUMBERS = ("+447700900000", "+447700900001", "+447700900002")


def test_each_person_always_gets_the_same_one_of_our_numbers_and_the_load_is_spread() -> None:
    pool = SenderPool(numbers=NUMBERS, rate_per_sender=10)
    people = [f"+4477009{i:05d}" for i in range(3000)]
    first = [pool.slot_for(p) for p in people]
    assert first == [pool.slot_for(p) for p in people]
    assert all(slot.from_number == slot.key and slot.from_number in NUMBERS for slot in first)
    shares = [sum(slot.from_number == n for slot in first) for n in NUMBERS]
    assert min(shares) > 800, shares  # about 1,000 each
    assert (pool.senders, pool.slot_rate, pool.total_rate) == (3, 10, 30)


def test_behind_a_messaging_service_the_provider_picks_and_the_pool_shares_one_limit() -> None:
    pool = SenderPool(size=4, rate_per_sender=10)
    slot = pool.slot_for("+447700900123")
    assert slot.from_number is None and slot == pool.slot_for("+447700900999")
    assert (pool.senders, pool.slot_rate, pool.total_rate) == (4, 40, 40)
    assert SenderPool().total_rate == 10  # one From number: one sender


@pytest.mark.parametrize(
    "fields",
    [{"size": 0}, {"rate_per_sender": 0}, {"numbers": ("+447700900000", "+447700900000")}],
)
def test_a_pool_that_cannot_send_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SenderPool(**fields)  # type: ignore[arg-type]
