"""Reading volunteers' SMS replies: YES/NO with an optional call-up reference, and keywords."""

import re
from dataclasses import dataclass
from enum import StrEnum


class ReplyIntent(StrEnum):
    """What a reply asks for."""

    YES = "YES"
    NO = "NO"
    STOP = "STOP"
    START = "START"
    HELP = "HELP"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Reply:
    """A parsed reply; ref is the call-up reference when the volunteer typed one."""

    intent: ReplyIntent
    ref: int | None = None


# Twilio's default opt-out and opt-in keywords (REVOKE and OPTOUT joined the opt-out list in 2025).
# Twilio also treats a bare YES as opt-in; for us YES answers a call-up, so it is kept out of
# OPT_IN_WORDS and listed in TWILIO_OPT_IN_WORDS only.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
TWILIO_OPT_IN_WORDS = OPT_IN_WORDS | {"YES"}
HELP_WORDS = frozenset({"HELP", "INFO"})

_YES_WORDS = frozenset({"YES", "Y"})
_NO_WORDS = frozenset({"NO", "N"})
_MAX_REF_DIGITS = 9  # references are short; a long number is a phone number or a typo, not a ref

# Words and numbers; everything else (spaces, punctuation, emoji) only separates them, so "no47",
# "Yes, 47!" and "47 yes" all read the same.
_TOKEN = re.compile(r"[A-Z]+|[0-9]+")


def parse_reply(body: str) -> Reply:
    """Read a reply strictly: anything not clearly YES/NO/keyword is UNKNOWN for a coordinator."""
    tokens = _TOKEN.findall(body.upper())
    words = [token for token in tokens if not token.isdigit()]
    numbers = [token for token in tokens if token.isdigit()]
    if len(words) != 1 or len(numbers) > 1:
        return Reply(ReplyIntent.UNKNOWN)
    word = words[0]
    if not numbers:
        if word in OPT_OUT_WORDS:
            return Reply(ReplyIntent.STOP)
        if word in OPT_IN_WORDS:
            return Reply(ReplyIntent.START)
        if word in HELP_WORDS:
            return Reply(ReplyIntent.HELP)
    if len(numbers) == 1 and len(numbers[0].lstrip("0") or "0") > _MAX_REF_DIGITS:
        return Reply(ReplyIntent.UNKNOWN)
    ref = int(numbers[0]) if numbers else None
    if word in _YES_WORDS:
        return Reply(ReplyIntent.YES, ref)
    if word in _NO_WORDS:
        return Reply(ReplyIntent.NO, ref)
    return Reply(ReplyIntent.UNKNOWN)


def twilio_keyword(body: str) -> str | None:
    """The OptOutType Twilio attaches to this inbound body (STOP, START or HELP), if any."""
    # Twilio matches a keyword only when it is the whole message, ignoring case and outer spaces.
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return "STOP"
    if word in TWILIO_OPT_IN_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return None
