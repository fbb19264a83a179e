"""The shape of every field Twilio posts, checked before anything is stored or acted on.

A valid signature is not enough: Twilio joins names and values with no separator, so the boundary
between one field and the next can move without changing the signature (`MessageSid` taking in the
`NumMedia0` that followed it). Every field we know must therefore have Twilio's exact shape, fields
must agree with each other, and the unknown ones Twilio may add later are bounded in name and size.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.errors import InvalidInput


class RefusedWebhook(InvalidInput):
    """A signed webhook whose fields are not what Twilio sends."""

    title = "Webhook refused"


MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SENDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ]{0,10}")  # an alphanumeric sender in a receipt's From
COUNTRY = re.compile(r"[A-Z]{2}")
SMALL_COUNT = re.compile(r"[0-9]{1,2}")
ERROR_CODE = re.compile(r"[0-9]{1,5}")
FIELD_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,39}")
API_VERSIONS = {"2010-04-01", "2008-08-01"}
OPT_OUT_TYPES = {"STOP", "START", "HELP"}
RECEIPT_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "canceled",
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "read",
        "partially_delivered",
    }
)
MAX_BODY = 1600  # Twilio's own limit for one message
MAX_OTHER = 256  # FromCity, ErrorMessage and fields Twilio adds later
MAX_FIELDS = 64

Check = Callable[[str], bool]


def _pattern(regex: re.Pattern[str]) -> Check:
    return lambda value: regex.fullmatch(value) is not None


def _one_of(allowed: set[str] | frozenset[str]) -> Check:
    return lambda value: value in allowed


def _length(limit: int) -> Check:
    return lambda value: len(value) <= limit and "\x00" not in value


COMMON: dict[str, Check] = {
    "MessageSid": _pattern(MESSAGE_SID),
    "SmsSid": _pattern(MESSAGE_SID),
    "SmsMessageSid": _pattern(MESSAGE_SID),
    "AccountSid": _pattern(ACCOUNT_SID),
    "MessagingServiceSid": _pattern(SERVICE_SID),
    "To": _pattern(E164),
    "ApiVersion": _one_of(API_VERSIONS),
    "NumMedia": _pattern(SMALL_COUNT),
    "NumSegments": _pattern(SMALL_COUNT),
    "FromCountry": _pattern(COUNTRY),
    "ToCountry": _pattern(COUNTRY),
}
INBOUND: dict[str, Check] = {
    **COMMON,
    "From": _pattern(E164),
    "Body": _length(MAX_BODY),
    "SmsStatus": _one_of({"received"}),
    "OptOutType": _one_of(OPT_OUT_TYPES),
}
RECEIPT: dict[str, Check] = {
    **COMMON,
    "From": lambda value: E164.fullmatch(value) is not None or SENDER_ID.fullmatch(value) is not None,
    "MessageStatus": _one_of(RECEIPT_STATUSES),
    "SmsStatus": _one_of(RECEIPT_STATUSES),
    "ErrorCode": lambda value: value == "" or ERROR_CODE.fullmatch(value) is not None,
}
SAME_AS_MESSAGE_SID = ("SmsSid", "SmsMessageSid")


@dataclass(frozen=True)
class InboundSms:
    """An inbound SMS as Twilio described it."""

    sid: str
    from_number: str
    to_number: str
    body: str
    opt_out_type: str | None


@dataclass(frozen=True)
class ReceiptFields:
    """A status callback as Twilio described it."""

    sid: str
    status: str
    error_code: int | None


def _check(form: Mapping[str, str], rules: Mapping[str, Check], required: tuple[str, ...]) -> None:
    """Refuse a form with a missing, unknown-shaped or inconsistent field; names only in the reason."""
    if len(form) > MAX_FIELDS:
        raise RefusedWebhook(f"too many fields ({len(form)})")
    missing = [name for name in required if not form.get(name)]
    if missing:
        raise RefusedWebhook(f"missing fields: {', '.join(missing)}", fields=missing)
    bad = sorted(
        name
        for name, value in form.items()
        if not (
            rules[name](value) if name in rules else FIELD_NAME.fullmatch(name) and _length(MAX_OTHER)(value)
        )
    )
    bad += [name for name in SAME_AS_MESSAGE_SID if name in form and form[name] != form["MessageSid"]]
    if bad:
        raise RefusedWebhook(f"fields not shaped as Twilio sends them: {', '.join(bad)}", fields=bad)


def _ours(form: Mapping[str, str], account_sid: str) -> None:
    if not account_sid or form["AccountSid"] != account_sid:
        raise RefusedWebhook("AccountSid is not this service's account", fields=["AccountSid"])


def inbound_sms(form: Mapping[str, str], *, account_sid: str) -> InboundSms:
    """The inbound SMS in a form, or RefusedWebhook."""
    _check(form, INBOUND, ("MessageSid", "AccountSid", "From", "To"))
    _ours(form, account_sid)
    return InboundSms(
        sid=form["MessageSid"],
        from_number=form["From"],
        to_number=form["To"],
        body=form.get("Body", ""),
        opt_out_type=form.get("OptOutType"),
    )


def receipt(form: Mapping[str, str], *, account_sid: str) -> ReceiptFields:
    """The delivery receipt in a form, or RefusedWebhook."""
    _check(form, RECEIPT, ("MessageSid", "AccountSid", "MessageStatus"))
    _ours(form, account_sid)
    code = form.get("ErrorCode", "")
    return ReceiptFields(
        sid=form["MessageSid"], status=form["MessageStatus"], error_code=int(code) if code else None
    )
