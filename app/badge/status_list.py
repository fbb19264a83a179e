"""W3C Bitstring Status List v1.0: one revocation bit per issued credential, published as a credential.

The bitstring is 131,072 bits (the spec's 16 KB minimum, so a list says little about any one holder),
bit 0 the most significant bit of the first byte, GZIP-compressed and multibase-encoded (`u` and
base64url without padding).
"""

import base64
import gzip
from collections.abc import Iterable

LIST_SIZE = 16 * 1024 * 8
MULTIBASE_BASE64URL = "u"


def encode(set_bits: Iterable[int]) -> str:
    """The `encodedList` of a list whose given bits (0 to LIST_SIZE - 1) are set."""
    bits = bytearray(LIST_SIZE // 8)
    for index in set_bits:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always encodes the same way.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")
