"""Common Alerting Protocol (OASIS CAP 1.2, and 1.1 / 1.0) alerts, alone or inside Atom and RSS feeds.

Pure parsing into plain dataclasses: positions come out as (lon, lat), swapped from CAP's `lat,lon`,
and a circle keeps its centre and radius in km (turning it into an area is geo's job). Geocodes are
kept as given; which of them name places we know is the service's question.
"""

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from xml.etree.ElementTree import Element, tostring

from alerts.safexml import DocumentError, declared_encoding, parse_xml

CAP_NAMESPACES = (
    "urn:oasis:names:tc:emergency:cap:1.2",
    "urn:oasis:names:tc:emergency:cap:1.1",
    "http://www.incident.com/cap/1.0",
)
ATOM = "http://www.w3.org/2005/Atom"
DEFAULT_LANGUAGE = "en-US"  # CAP's default when an info block names none
MAX_TEXT = 20_000  # one element's text (a description runs to a few kB)


class Status(enum.StrEnum):
    """Only an Actual alert is real; the others are drills, tests, system messages and drafts."""

    actual = "Actual"
    exercise = "Exercise"
    system = "System"
    test = "Test"
    draft = "Draft"


class MsgType(enum.StrEnum):
    """An Alert starts a warning, an Update changes it, a Cancel withdraws it (Ack and Error are not
    warnings and are refused)."""

    alert = "Alert"
    update = "Update"
    cancel = "Cancel"


class Severity(enum.StrEnum):
    """CAP severity, most severe first."""

    extreme = "Extreme"
    severe = "Severe"
    moderate = "Moderate"
    minor = "Minor"
    unknown = "Unknown"


class Urgency(enum.StrEnum):
    """When to act."""

    immediate = "Immediate"
    expected = "Expected"
    future = "Future"
    past = "Past"
    unknown = "Unknown"


class Certainty(enum.StrEnum):
    """How sure the issuer is (CAP 1.0's "Very Likely" is read as Likely)."""

    observed = "Observed"
    likely = "Likely"
    possible = "Possible"
    unlikely = "Unlikely"
    unknown = "Unknown"


@dataclass(frozen=True)
class Reference:
    """An earlier message this one refers to: `sender,identifier,sent`."""

    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True)
class Circle:
    """A centre (lon, lat) and a radius in kilometres."""

    lon: float
    lat: float
    radius_km: float


@dataclass(frozen=True)
class Geocode:
    """A coded place, e.g. ("SAME", "006109"), kept as the issuer gave it."""

    name: str
    value: str


@dataclass(frozen=True)
class Area:
    """One `area` block: closed rings of (lon, lat), circles and geocodes."""

    description: str
    rings: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[Circle] = field(default_factory=list)
    geocodes: list[Geocode] = field(default_factory=list)


@dataclass(frozen=True)
class Info:
    """One `info` block: the warning in one language."""

    language: str
    event: str
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    headline: str | None
    description: str | None
    instruction: str | None
    sender_name: str | None
    effective: datetime | None
    onset: datetime | None
    expires: datetime | None
    areas: list[Area]

    @property
    def english(self) -> bool:
        """Whether this block is in English (en, en-GB, en-US, ...)."""
        return self.language.lower().split("-")[0] == "en"


@dataclass(frozen=True)
class Alert:
    """One CAP alert message; `raw` is its XML text."""

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: str | None
    references: list[Reference]
    infos: list[Info]
    raw: str

    @property
    def info(self) -> Info | None:
        """The info block to act on: the first in English, else the first (the rest are kept)."""
        return next((i for i in self.infos if i.english), self.infos[0] if self.infos else None)

    @property
    def areas(self) -> list[Area]:
        """Every area of every info block (languages repeat the same areas, which merge)."""
        return [area for info in self.infos for area in info.areas]


@dataclass(frozen=True)
class Document:
    """What a CAP document or feed held: its alerts, and the links of feed entries that only link to one
    (fetching those is the feed poller's job)."""

    alerts: list[Alert]
    links: list[str]


def parse_document(data: bytes) -> Document:
    """A CAP alert, or an Atom or RSS feed of them, read safely; DocumentError says what is wrong."""
    root = parse_xml(data)
    namespace, name = _split(root.tag)
    if name == "alert" and namespace in CAP_NAMESPACES:
        return Document(alerts=[_alert(root, namespace, raw=_text_of(data))], links=[])
    if (namespace, name) == (ATOM, "feed"):
        return _feed(root.findall(f"{{{ATOM}}}entry"), link=_atom_link, where="entry")
    if (namespace, name) == ("", "rss"):
        return _feed(root.findall("channel/item"), link=_rss_link, where="item")
    if name == "alert":
        raise DocumentError(
            f"the alert's namespace {namespace!r} is not CAP's; expected {CAP_NAMESPACES[0]!r}"
        )
    raise DocumentError(f"the document is a <{name}>, not a CAP alert or an Atom or RSS feed of alerts")


def _feed(entries: list[Element], *, link: Callable[[Element], str | None], where: str) -> Document:
    """The alerts embedded in a feed's entries, and the links of those that embed none."""
    alerts: list[Alert] = []
    links: list[str] = []
    for index, entry in enumerate(entries):
        embedded = [
            e for e in entry.iter() if _split(e.tag)[1] == "alert" and _split(e.tag)[0] in CAP_NAMESPACES
        ]
        if embedded:
            for element in embedded:
                try:
                    namespace = _split(element.tag)[0]
                    alerts.append(_alert(element, namespace, raw=tostring(element, encoding="unicode")))
                except DocumentError as exc:
                    raise DocumentError(f"{where} {index}: {exc}") from None
            continue
        found = link(entry)
        if found:
            links.append(found)
    return Document(alerts=alerts, links=links)


def _atom_link(entry: Element) -> str | None:
    """An Atom entry's link to its alert."""
    for element in entry.findall(f"{{{ATOM}}}link"):
        if element.get("href") and element.get("rel", "alternate") in ("alternate", "related", "enclosure"):
            return element.get("href")
    return None


def _rss_link(item: Element) -> str | None:
    """An RSS item's link to its alert."""
    text = (item.findtext("link") or "").strip()
    return text or None


def _alert(root: Element, namespace: str, *, raw: str) -> Alert:
    """One alert element, checked against what CAP requires of the parts we act on."""
    reader = _Reader(namespace)
    identifier = _token(reader.required(root, "identifier"), "identifier")
    sender = _token(reader.required(root, "sender"), "sender")
    sent = _instant(reader.required(root, "sent"), "sent")
    status = _choice(Status, reader.required(root, "status"), "status")
    msg_type = _choice(MsgType, reader.required(root, "msgType"), "msgType")
    references = [_reference(r, i) for i, r in enumerate((reader.text(root, "references") or "").split())]
    if msg_type is not MsgType.alert and not references:
        raise DocumentError(f"msgType {msg_type.value} must name the messages it changes in <references>")
    infos = [_info(reader, element, i) for i, element in enumerate(reader.all(root, "info"))]
    return Alert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=status,
        msg_type=msg_type,
        scope=reader.text(root, "scope"),
        references=references,
        infos=infos,
        raw=raw,
    )


def _info(reader: "_Reader", element: Element, index: int) -> Info:
    """One info block; its category, event, urgency, severity and certainty are required by CAP, but
    issuers leave some out, so only an unknown value is refused and a missing one is Unknown."""
    where = f"info {index}"
    return Info(
        language=reader.text(element, "language") or DEFAULT_LANGUAGE,
        event=reader.text(element, "event") or "",
        severity=_choice(Severity, reader.text(element, "severity") or "Unknown", f"{where} severity"),
        urgency=_choice(Urgency, reader.text(element, "urgency") or "Unknown", f"{where} urgency"),
        certainty=_certainty(reader.text(element, "certainty") or "Unknown", f"{where} certainty"),
        headline=reader.text(element, "headline"),
        description=reader.text(element, "description"),
        instruction=reader.text(element, "instruction"),
        sender_name=reader.text(element, "senderName"),
        effective=_optional_instant(reader.text(element, "effective"), f"{where} effective"),
        onset=_optional_instant(reader.text(element, "onset"), f"{where} onset"),
        expires=_optional_instant(reader.text(element, "expires"), f"{where} expires"),
        areas=[_area(reader, a, f"{where} area {i}") for i, a in enumerate(reader.all(element, "area"))],
    )


def _area(reader: "_Reader", element: Element, where: str) -> Area:
    """One area block with its polygons, circles and geocodes."""
    geocodes = []
    for code in reader.all(element, "geocode"):
        name, value = reader.text(code, "valueName"), reader.text(code, "value")
        if name and value:
            geocodes.append(Geocode(name=name, value=value))
    return Area(
        description=reader.text(element, "areaDesc") or "",
        rings=[
            _ring(p.text or "", f"{where} polygon {i}") for i, p in enumerate(reader.all(element, "polygon"))
        ],
        circles=[
            _circle(c.text or "", f"{where} circle {i}") for i, c in enumerate(reader.all(element, "circle"))
        ],
        geocodes=geocodes,
    )


def _ring(text: str, where: str) -> list[tuple[float, float]]:
    """A CAP polygon, `lat,lon lat,lon ...`, as a closed ring of (lon, lat)."""
    pairs = text.split()
    ring = [_position(pair, f"{where} point {i}") for i, pair in enumerate(pairs)]
    if len(ring) < 4:
        raise DocumentError(f"{where} has {len(ring)} points; CAP needs at least 4, the first repeated last")
    if ring[0] != ring[-1]:
        raise DocumentError(f"{where} is not closed: its first point {pairs[0]} is not repeated at the end")
    return ring


def _circle(text: str, where: str) -> Circle:
    """A CAP circle, `lat,lon radius_km`."""
    parts = text.split()
    if len(parts) != 2:
        raise DocumentError(f"{where} must be 'lat,lon radius_km', got {_show(text)}")
    lon, lat = _position(parts[0], where)
    radius = _number(parts[1], f"{where} radius")
    if radius <= 0:
        raise DocumentError(f"{where} radius must be above 0 km, got {parts[1]}")
    return Circle(lon=lon, lat=lat, radius_km=radius)


def _position(pair: str, where: str) -> tuple[float, float]:
    """A `lat,lon` pair as (lon, lat), in range."""
    parts = pair.split(",")
    if len(parts) != 2:
        raise DocumentError(f"{where} must be 'lat,lon', got {_show(pair)}")
    lat, lon = _number(parts[0], f"{where} latitude"), _number(parts[1], f"{where} longitude")
    if abs(lat) > 90:
        raise DocumentError(f"{where} latitude {parts[0]} is out of range [-90, 90] (CAP gives lat,lon)")
    if abs(lon) > 180:
        raise DocumentError(f"{where} longitude {parts[1]} is out of range [-180, 180]")
    return lon, lat


def _number(text: str, where: str) -> float:
    """A finite decimal number."""
    try:
        value = float(text)
    except ValueError:
        raise DocumentError(f"{where} must be a number, got {_show(text)}") from None
    if not math.isfinite(value):
        raise DocumentError(f"{where} must be a finite number, got {_show(text)}")
    return value


def _reference(text: str, index: int) -> Reference:
    """One `sender,identifier,sent` of <references> (the identifier is what lies between)."""
    parts = text.split(",")
    if len(parts) < 3 or not parts[0] or not parts[-1]:
        raise DocumentError(f"references item {index} must be 'sender,identifier,sent', got {_show(text)}")
    identifier = ",".join(parts[1:-1])
    return Reference(
        sender=parts[0], identifier=identifier, sent=_instant(parts[-1], f"references item {index}")
    )


def _token(text: str, name: str) -> str:
    """An identifier or sender: CAP forbids spaces and commas in them, which references rely on."""
    if any(c.isspace() or c == "," for c in text):
        raise DocumentError(f"{name} {_show(text)} must not contain spaces or commas")
    if len(text) > 255:
        raise DocumentError(f"{name} is {len(text)} characters, over the limit of 255")
    return text


def _instant(text: str, name: str) -> datetime:
    """A CAP dateTime, which must carry its offset (`-00:00` is UTC; `Z` is accepted too)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DocumentError(
            f"{name} {_show(text)} is not a date and time like 2026-12-04T15:00:00+00:00"
        ) from None
    if value.tzinfo is None:
        raise DocumentError(f"{name} {_show(text)} has no time zone offset, which CAP requires")
    return value


def _optional_instant(text: str | None, name: str) -> datetime | None:
    return None if text is None else _instant(text, name)


E = TypeVar("E", bound=enum.StrEnum)


def _choice(kind: type[E], text: str, name: str) -> E:
    """One of an enumeration's CAP values, exactly as CAP spells it."""
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise DocumentError(f"{name} {_show(text)} is not one of {allowed}") from None


def _certainty(text: str, name: str) -> Certainty:
    """A certainty, with CAP 1.0's "Very Likely" read as Likely."""
    return Certainty.likely if text == "Very Likely" else _choice(Certainty, text, name)


def _split(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element's tag."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _text_of(data: bytes) -> str:
    """The document as text, for keeping (the parser has already checked its encoding)."""
    return data.decode(declared_encoding(data), errors="replace")


def _show(value: str) -> str:
    """A short rendering of a bad value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


class _Reader:
    """Children of CAP elements in one CAP namespace, with texts trimmed and bounded."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def all(self, element: Element, name: str) -> list[Element]:
        """Every child of this name."""
        return element.findall(f"{{{self.namespace}}}{name}")

    def text(self, element: Element, name: str) -> str | None:
        """The trimmed text of the first child of this name, None when absent or empty."""
        child = element.find(f"{{{self.namespace}}}{name}")
        if child is None:
            return None
        text = "".join(child.itertext()).strip()
        if len(text) > MAX_TEXT:
            raise DocumentError(f"<{name}> is {len(text):,} characters, over the limit of {MAX_TEXT:,}")
        return text or None

    def required(self, element: Element, name: str) -> str:
        """The text of a child CAP requires."""
        text = self.text(element, name)
        if text is None:
            raise DocumentError(f"the alert has no <{name}>, which CAP requires")
        return text
