"""Reading XML from strangers: defusedxml (no DTD, so no entity expansion and no external entities; no
network), with limits on size, depth and element count, and the document's declared encoding checked
before the parser sees a byte, so every refusal says what was wrong.
"""

import codecs
import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import XMLParser

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # the NWS's detailed zone outlines reach 1.7 MB
MAX_DEPTH = 32  # a CAP alert inside an Atom entry is 8 deep
MAX_ELEMENTS = 200_000

_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class DocumentError(ValueError):
    """A document that cannot be accepted; the message says what was wrong and where."""


def parse_xml(
    data: bytes,
    *,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> Element:
    """The root element of a well-formed document within the limits, in the encoding it declares."""
    if len(data) > max_bytes:
        raise DocumentError(f"the document is {len(data):,} bytes, over the limit of {max_bytes:,}")
    if not data.strip():
        raise DocumentError("the document is empty")
    _check_encoding(data)
    builder = _LimitedBuilder(max_depth=max_depth, max_elements=max_elements)
    parser = XMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        root: Element = parser.close()
    except DTDForbidden as exc:
        raise DocumentError(
            "the document declares a DTD (<!DOCTYPE ...>); DTDs are refused because they carry entity "
            "expansion and external entities, and alerts need none"
        ) from exc
    except DefusedXmlException as exc:
        raise DocumentError(f"the document uses a refused XML feature: {exc}") from exc
    except ParseError as exc:
        raise DocumentError(f"the document is not well-formed XML: {exc}") from exc
    return root


def declared_encoding(data: bytes) -> str:
    """The encoding a document declares, else the one its byte order mark shows, else UTF-8 (XML's rule)."""
    declared = _DECLARATION.match(data[:200])
    if declared:
        return declared.group(1).decode("ascii")
    return next((encoding for mark, encoding in _BOMS if data.startswith(mark)), "utf-8")


def _check_encoding(data: bytes) -> None:
    """Refuse an encoding we cannot read, and bytes that are not in the encoding the document declares
    (UTF-8 when it declares none, as XML says), naming the first bad byte."""
    encoding = declared_encoding(data)
    name = encoding if _DECLARATION.match(data[:200]) else None
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise DocumentError(
            f"the document declares encoding {encoding!r}, which is not one we can read"
        ) from None
    try:
        data.decode(codec.name)
    except UnicodeDecodeError as exc:
        said = f"declares encoding {encoding!r}" if name else "declares no encoding, so it must be UTF-8"
        bad = data[exc.start : exc.start + 1].hex()
        raise DocumentError(
            f"the document {said}, but byte 0x{bad} at offset {exc.start} is not {encoding}"
        ) from None


class _LimitedBuilder(TreeBuilder):
    """A tree builder that stops a document nested too deep or holding too many elements."""

    def __init__(self, *, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.max_elements = max_elements
        self.depth = 0
        self.count = 0

    def start(self, tag: Any, attrs: Any) -> Element:
        """Count one element in; refuse past the limits."""
        self.depth += 1
        self.count += 1
        if self.depth > self.max_depth:
            raise DocumentError(f"the document nests elements more than {self.max_depth} deep")
        if self.count > self.max_elements:
            raise DocumentError(f"the document has more than {self.max_elements:,} elements")
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        """Count one element out."""
        self.depth -= 1
        return super().end(tag)
