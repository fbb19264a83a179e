"""Phone numbers: volunteers must have a valid mobile, stored in E.164."""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_mobile(raw: str, *, region: str = "GB") -> str:
    """Return the number in E.164, or raise ValueError saying why it cannot take an SMS."""
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        raise ValueError(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw!r} is not a valid phone number")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValueError(f"{raw!r} is not a mobile number, so it cannot receive SMS call-ups")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
