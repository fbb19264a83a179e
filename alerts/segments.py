"""SMS segment counting that matches how Twilio splits and bills a message body."""

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 basic character set: one septet each. ESC (0x1B) is left out: it only introduces the
# extension table below.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC plus a septet, so it costs two.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE = 160
GSM7_MULTIPART = 153  # a multipart segment gives 7 septets to the concatenation header
UCS2_SINGLE = 70
UCS2_MULTIPART = 67


@dataclass(frozen=True)
class Segments:
    """How a body is encoded and how many segments (billed units) it takes."""

    encoding: Encoding
    units: int  # GSM-7 septets or UTF-16 code units
    segments: int


def count_segments(text: str) -> Segments:
    """Count segments as Twilio does, so we can keep call-ups cheap and in one piece."""
    widths = _gsm7_widths(text)
    encoding: Encoding = "GSM-7"
    single, multipart = GSM7_SINGLE, GSM7_MULTIPART
    if widths is None:
        encoding = "UCS-2"
        single, multipart = UCS2_SINGLE, UCS2_MULTIPART
        # Characters outside the Basic Multilingual Plane (most emoji) are surrogate pairs: two units.
        widths = [2 if ord(char) > 0xFFFF else 1 for char in text]
    units = sum(widths)
    segments = 1 if units <= single else _pack(widths, multipart)
    return Segments(encoding=encoding, units=units, segments=segments)


def fits(text: str, max_segments: int) -> bool:
    """Whether the text goes out in at most max_segments segments."""
    return count_segments(text).segments <= max_segments


def _gsm7_widths(text: str) -> list[int] | None:
    """Septets per character, or None when one character forces UCS-2."""
    widths = []
    for char in text:
        if char in GSM7_BASIC:
            widths.append(1)
        elif char in GSM7_EXTENSION:
            widths.append(2)
        else:
            return None
    return widths


def _pack(widths: list[int], capacity: int) -> int:
    """Number of parts when characters are never split between two parts."""
    # An escape pair or a surrogate pair that does not fit at the end of a part moves whole to the
    # next one, as Twilio's segmenter does, so a part can hold one unit less than its capacity.
    segments, used = 1, 0
    for width in widths:
        if used + width > capacity:
            segments += 1
            used = 0
        used += width
    return segments
