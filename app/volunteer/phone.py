"""Phone numbers: volunteers must have a valid mobile, stored in E.164."""

import hashlib
import hmac

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


def phone_fingerprint(phone: str, *, key: str) -> str:
    """A one-way fingerprint of an E.164 number, kept after erasure so an erased person is not re-added.

    Keyed (HMAC-SHA256 with a secret from settings, never stored in the database) rather than a bare
    hash: UK mobiles are +447 and nine digits, a billion numbers, so anyone holding a plain SHA-256 of
    one could find it by hashing them all in minutes. Without the key a leaked fingerprint names nobody.
    """
    return hmac.new(key.encode(), phone.encode(), hashlib.sha256).hexdigest()


def spellings(phone: str) -> list[str]:
    """The ways an E.164 number may appear in free text (E.164, without the plus, UK national)."""
    forms = [phone, phone.removeprefix("+")]
    if phone.startswith("+44"):
        national = "0" + phone.removeprefix("+44")
        forms += [national, f"{national[:5]} {national[5:]}"]
    return forms
