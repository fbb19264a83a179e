"""CAP parsing: the shared real alerts, feeds, and hostile or invalid documents refused with reasons."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.cap import Certainty, MsgType, Severity, Status, parse_document
from alerts.safexml import DocumentError, parse_xml

SHARED_CAP = Path(__file__).resolve().parents[3] / "shared" / "data" / "cap"
needs_samples = pytest.mark.skipif(not SHARED_CAP.exists(), reason="../shared/data is not beside this clone")
NS = "urn:oasis:names:tc:emergency:cap:1.2"


def alert_xml(
    *,
    identifier: str = "TEST-1",
    sent: str = "2026-12-04T10:00:00+00:00",
    msg_type: str = "Alert",
    references: str | None = None,
    area: str = "<polygon>54.8,-3.0 54.8,-2.8 55.0,-2.8 55.0,-3.0 54.8,-3.0</polygon>",
    extra_info: str = "",
    declaration: str = '<?xml version="1.0" encoding="UTF-8"?>',
) -> str:
    refs = f"<references>{references}</references>" if references else ""
    return (
        f'{declaration}<alert xmlns="{NS}"><identifier>{identifier}</identifier><sender>test@nvr</sender>'
        f"<sent>{sent}</sent><status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}"
        "<info><language>en-GB</language><category>Met</category><event>Flood</event>"
        "<urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>"
        f"<headline>Flooding in Carlisle</headline><area><areaDesc>Carlisle</areaDesc>{area}</area></info>"
        f"{extra_info}</alert>"
    )


@needs_samples
@pytest.mark.parametrize("path", sorted(SHARED_CAP.iterdir()), ids=lambda p: p.name[:30])
def test_every_shared_sample_parses(path: Path) -> None:
    document = parse_document(path.read_bytes())
    assert len(document.alerts) == 1
    alert = document.alerts[0]
    assert alert.status is Status.actual and alert.sender and alert.identifier
    assert alert.sent.tzinfo is not None
    assert alert.info is not None


@needs_samples
def test_the_english_info_is_chosen_and_the_other_languages_kept() -> None:
    canada = parse_document((SHARED_CAP / "canada.cap").read_bytes()).alerts[0]
    assert [i.language for i in canada.infos] == ["en-CA", "fr-CA"]
    assert canada.info is not None and canada.info.headline == "severe thunderstorm watch"
    assert canada.msg_type is MsgType.update
    assert [(r.sender, r.identifier) for r in canada.references] == [
        ("cap@ec.gc.ca", "2.49.0.1.124.a3f342a4.2012"),
        ("cap@ec.gc.ca", "2.49.0.1.124.60f31a3a.2012"),
    ]
    assert canada.references[0].sent == datetime(2012, 5, 2, 21, 45, 5, tzinfo=UTC)
    hessen = next(p for p in SHARED_CAP.iterdir() if p.name.startswith("mow."))
    german = parse_document(hessen.read_bytes()).alerts[0]
    assert len(german.infos) == 9 and german.info is not None and german.info.language == "en"
    assert german.msg_type is MsgType.cancel and german.info.severity is Severity.extreme


@needs_samples
def test_polygons_are_read_lat_lon_and_circles_keep_their_radius() -> None:
    storm = parse_document((SHARED_CAP / "oasis-thunderstorm.cap").read_bytes()).alerts[0]
    assert storm.areas[0].rings[0][0] == (-120.14, 38.47)  # CAP writes 38.47,-120.14
    assert [g.value for g in storm.areas[0].geocodes] == ["006109", "006009", "006003"]
    fire = parse_document((SHARED_CAP / "australia.cap").read_bytes()).alerts[0]
    circle = fire.areas[0].circles[0]
    assert (circle.lon, circle.lat, circle.radius_km) == (147.0598, -35.3888, 25.0)
    assert fire.info is not None and fire.info.certainty is Certainty.observed


def test_an_atom_feed_gives_its_embedded_alerts_and_the_links_of_the_rest() -> None:
    alert = alert_xml(declaration="")
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<entry><id>1</id><content type='application/cap+xml'>{alert}</content></entry>"
        "<entry><id>2</id><link rel='alternate' href='https://example.org/alerts/2.xml'/></entry></feed>"
    )
    document = parse_document(feed.encode())
    assert [a.identifier for a in document.alerts] == ["TEST-1"]
    assert document.links == ["https://example.org/alerts/2.xml"]
    rss = "<rss version='2.0'><channel><item><link>https://example.org/a.cap</link></item></channel></rss>"
    assert parse_document(rss.encode()).links == ["https://example.org/a.cap"]


def test_declared_encodings_are_read() -> None:
    latin = alert_xml(declaration='<?xml version="1.0" encoding="ISO-8859-1"?>').replace(
        "Carlisle</headline>", "Carlisle é</headline>"
    )
    alert = parse_document(latin.encode("latin-1")).alerts[0]
    assert alert.info is not None and alert.info.headline == "Flooding in Carlisle é"
    utf16 = alert_xml(declaration='<?xml version="1.0" encoding="UTF-16"?>')
    assert parse_document(utf16.encode("utf-16")).alerts[0].identifier == "TEST-1"


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    f'<alert xmlns="{NS}"><identifier>&lol3;</identifier></alert>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f'<alert xmlns="{NS}"><identifier>&xxe;</identifier></alert>'
)
EXTERNAL_DTD = f'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:9/x.dtd"><alert xmlns="{NS}"/>'


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        (BILLION_LAUGHS.encode(), "declares a DTD"),
        (EXTERNAL_ENTITY.encode(), "declares a DTD"),
        (EXTERNAL_DTD.encode(), "declares a DTD"),
        (b"", "empty"),
        (b"<alert", "not well-formed"),
        ("<a>caf\u00e9</a>".encode("latin-1"), "declares no encoding, so it must be UTF-8, but byte 0xe9"),
        (
            '<?xml version="1.0" encoding="UTF-8"?><a>caf\u00e9</a>'.encode("latin-1"),
            "declares encoding 'UTF-8', but byte 0xe9",
        ),
        (b'<?xml version="1.0" encoding="x-klingon"?><a/>', "'x-klingon', which is not one we can read"),
        (b"<a>" * 40 + b"</a>" * 40, "more than 32 deep"),
        (b"<a>" + b"<b/>" * 200_001 + b"</a>", "more than 200,000 elements"),
        (b"<a>" + b" " * (4 * 1024 * 1024) + b"</a>", "over the limit of 4,194,304"),
        (b"<html><body/></html>", "is a <html>, not a CAP alert"),
        (b'<alert xmlns="urn:example"/>', "namespace 'urn:example' is not CAP's"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_hostile_and_malformed_documents_are_refused_saying_why(document: bytes, needle: str) -> None:
    with pytest.raises(DocumentError, match=None) as caught:
        parse_document(document)
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"identifier": ""}, "no <identifier>"),
        ({"identifier": "has space"}, "must not contain spaces or commas"),
        ({"sent": "2026-12-04T10:00:00"}, "no time zone offset"),
        ({"sent": "yesterday"}, "is not a date and time"),
        ({"msg_type": "Ack"}, "msgType 'Ack' is not one of Alert, Update, Cancel"),
        ({"msg_type": "Update"}, "must name the messages it changes"),
        ({"msg_type": "Update", "references": "only-two,parts"}, "must be 'sender,identifier,sent'"),
        ({"area": "<polygon>54.8,-3.0 54.8,-2.8 55.0,-2.8 55.0,-3.0</polygon>"}, "is not closed"),
        ({"area": "<polygon>54.8,-3.0 54.8,-2.8 54.8,-3.0</polygon>"}, "needs at least 4"),
        ({"area": "<polygon>-3.0,54.8 -2.8,54.8 -2.8,195.0 -3.0,54.8</polygon>"}, "longitude 195.0"),
        ({"area": "<polygon>95,1 1,1 1,2 95,1</polygon>"}, "latitude 95 is out of range"),
        ({"area": "<polygon>a,b c,d e,f a,b</polygon>"}, "must be a number"),
        ({"area": "<polygon>nan,1 1,1 1,2 nan,1</polygon>"}, "finite"),
        ({"area": "<circle>54.9,-2.9</circle>"}, "must be 'lat,lon radius_km'"),
        ({"area": "<circle>54.9,-2.9 0</circle>"}, "radius must be above 0 km"),
    ],
)
def test_invalid_cap_is_refused_saying_why(changes: dict[str, str], needle: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(alert_xml(**changes).encode())
    assert needle in str(caught.value)


def test_the_parser_never_reads_outside_the_document(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    document = f'<!DOCTYPE a [<!ENTITY s SYSTEM "{secret.as_uri()}">]><a>&s;</a>'
    with pytest.raises(DocumentError) as caught:
        parse_xml(document.encode())
    assert "TOP SECRET" not in str(caught.value)
