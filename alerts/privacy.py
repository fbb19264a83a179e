"""Showing a phone number in a log without giving it away."""

VISIBLE_HEAD = 5  # "+4477": the country and the kind of number
VISIBLE_TAIL = 2


def mask_number(number: str) -> str:
    """`+447911123456` as `+4479******56`: enough to tell two numbers apart in a log, not to call one."""
    if len(number) <= VISIBLE_HEAD + VISIBLE_TAIL:
        return "*" * len(number)
    hidden = len(number) - VISIBLE_HEAD - VISIBLE_TAIL
    return number[:VISIBLE_HEAD] + "*" * hidden + number[-VISIBLE_TAIL:]
