"""A realistic synthetic reserve for development, demos and load tests, written with COPY.

A tool, not a service: it makes people up, records a consent nobody gave and skips the erasure check,
which is right only for people who do not exist. Real people arrive through app/volunteer/importer.py.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit.service import record
from app.volunteer.models import CredentialStatus, Volunteer, VolunteerStatus
from app.volunteer.service import check_skill_codes, organisations_named, today_uk
from geo.places import Town, find_town, sample_homes, sample_homes_near

# UK mobiles +44 7400 000000 to +44 7409 999999: ten million numbers, every one a valid MOBILE to
# phonenumbers. They are real, assignable numbers: a seeded reserve must only ever meet a simulator.
PHONE_PREFIX = "+44740"
PHONE_SPACE = 10_000_000

FIRST_NAMES = (
    "Oliver", "George", "Harry", "Jack", "Noah", "Leo", "Arthur", "Muhammad", "Oscar", "Charlie",
    "Thomas", "James", "William", "Henry", "Alfie", "Jacob", "Freddie", "Theo", "Joshua", "Daniel",
    "David", "Andrew", "Mark", "Paul", "Stephen", "Ian", "Gareth", "Rhys", "Callum", "Ewan",
    "Ciaran", "Sean", "Arjun", "Ravi", "Tomasz", "Kwame", "Olivia", "Amelia", "Isla", "Ava",
    "Mia", "Lily", "Freya", "Grace", "Emily", "Sophie", "Charlotte", "Poppy", "Evie", "Ella",
    "Sarah", "Emma", "Claire", "Rachel", "Helen", "Karen", "Susan", "Margaret", "Fiona", "Catriona",
    "Siobhan", "Aoife", "Cerys", "Megan", "Bethan", "Priya", "Aisha", "Fatima", "Zainab", "Agnieszka",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
    "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
    "Scott", "Watson", "Campbell", "Stewart", "MacDonald", "Murray", "Reid", "Robertson", "Kelly", "Murphy",
    "O'Brien", "O'Neill", "Byrne", "Khan", "Ali", "Hussain", "Ahmed", "Singh", "Kaur", "Begum",
    "Shah", "Nowak", "Kowalski", "Mensah", "Okafor", "Chen", "Wong", "Nguyen", "Price", "Bennett",
)  # fmt: skip
ORGANISATIONS = (
    "British Red Cross",
    "St John Ambulance",
    "The Salvation Army",
    "Lowland Rescue",
    "RAYNET",
    "Community Emergency Volunteers",
)
ORGANISATION_SHARE = 0.35
# Most passports were checked by an organisation (the holder's own, else the one that issued it); the
# rest are claims still waiting in that organisation's queue (app/passport).
VERIFIED_SHARE = 0.85

FIRST_AID_SHARE = 0.75
# Relative frequency of the other skills: plenty of welfare and sandbagging, few boat crews.
OTHER_SKILLS = {
    "welfare": 20,
    "sandbagging": 15,
    "logistics": 15,
    "safeguarding": 12,
    "search": 8,
    "radio": 8,
    "driver_4x4": 7,
    "chainsaw": 5,
    "flood_rescue": 4,
    "boat_crew": 3,
    "swift_water": 2,
}
SKILL_COUNTS = ((1, 0.5), (2, 0.35), (3, 0.15))
LEVELS = ((1, 0.6), (2, 0.3), (3, 0.1))
EXPIRED_SHARE = 0.10
TRAVEL_LIMIT_SHARE = 0.20
WINDOW_SHARE = 0.15
# Weekly patterns (weekdays, start, end) for those who are only free some of the time.
WINDOW_PATTERNS = (
    (range(5), time(18), time(22)),
    ((5, 6), time(8), time(20)),
    (range(5), time(9), time(17)),
)
SECOND_LANGUAGES = ("cy", "gd", "pl", "ur", "pa", "bn", "ro")
SECOND_LANGUAGE_SHARE = 0.05

_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class SyntheticVolunteer:
    """One made-up person, ready to COPY."""

    name: str
    phone: str
    lon: float
    lat: float
    max_travel_km: float | None
    languages: list[str]
    organisation: str | None
    credentials: list[tuple[str, int, date]]
    windows: list[tuple[int, time, time]]
    # Per credential, in the same order: the issuing organisation, and whether it verified it.
    checks: list[tuple[str, bool]]


@dataclass(frozen=True)
class SeedSummary:
    """How much was written."""

    volunteers: int
    credentials: int
    windows: int


def synthetic_volunteers(
    count: int,
    *,
    seed: int,
    today: date,
    taken: frozenset[str] = frozenset(),
    near: Town | None = None,
    radius_km: float = 20.0,
) -> list[SyntheticVolunteer]:
    """`count` people, the same ones for the same seed; phones in `taken` are skipped."""
    # One random stream per aspect, so skipping a taken phone does not reshuffle everything else.
    homes_rng, people_rng = random.Random(f"{seed}:homes"), random.Random(f"{seed}:people")
    if near is None:
        homes = sample_homes(count, homes_rng)
    else:
        homes = sample_homes_near(near, count, radius_km, homes_rng)
    phones = _phones(count, seed=seed, taken=taken)
    return [
        _person(people_rng, phone, lon, lat, today) for phone, (lon, lat) in zip(phones, homes, strict=True)
    ]


def seed_volunteers(
    session: Session,
    *,
    count: int,
    actor: str,
    seed: int = 0,
    near: Town | None = None,
    radius_km: float = 20.0,
) -> SeedSummary:
    """Add `count` synthetic active volunteers with passports, in the caller's transaction, by COPY."""
    check_skill_codes(session, ["first_aid", *OTHER_SKILLS])
    taken = frozenset(
        str(p)
        for p in session.scalars(select(Volunteer.phone).where(Volunteer.phone.startswith(PHONE_PREFIX)))
    )
    people = synthetic_volunteers(
        count, seed=seed, today=today_uk(), taken=taken, near=near, radius_km=radius_km
    )
    organisation_ids = {o.name: o.id for o in organisations_named(session, names=ORGANISATIONS)}
    ids = list(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence('volunteers', 'id')) FROM generate_series(1, :n)"),
            {"n": count},
        )
    )
    now = datetime.now(UTC)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY volunteers (id, name, phone, location, max_travel_km, status, consent_at, languages)"
            " FROM STDIN"
        ) as copy:
            for vid, p in zip(ids, people, strict=True):
                copy.write_row(
                    (
                        vid,
                        p.name,
                        p.phone,
                        f"SRID=4326;POINT({p.lon} {p.lat})",
                        p.max_travel_km,
                        VolunteerStatus.active.value,
                        now,
                        p.languages,
                    )
                )
        with cursor.copy(
            "COPY credentials (volunteer_id, skill_code, level, expires_on, issued_by_id, status,"
            " verified_at, verified_by) FROM STDIN"
        ) as copy:
            for vid, p in zip(ids, people, strict=True):
                for (code, level, expires_on), (issuer, verified) in zip(
                    p.credentials, p.checks, strict=True
                ):
                    status = CredentialStatus.verified if verified else CredentialStatus.pending
                    copy.write_row(
                        (
                            vid,
                            code,
                            level,
                            expires_on,
                            organisation_ids[issuer],
                            status.value,
                            now if verified else None,
                            f"seed:{issuer}" if verified else None,
                        )
                    )
        with cursor.copy(
            "COPY availability_windows (volunteer_id, weekday, starts, ends) FROM STDIN"
        ) as copy:
            for vid, p in zip(ids, people, strict=True):
                for weekday, starts, ends in p.windows:
                    copy.write_row((vid, weekday, starts, ends))
        with cursor.copy("COPY volunteer_organisations (volunteer_id, organisation_id) FROM STDIN") as copy:
            for vid, p in zip(ids, people, strict=True):
                if p.organisation is not None:
                    copy.write_row((vid, organisation_ids[p.organisation]))
    # Each verification's record, as a verifier would have left it (app/passport/models.py).
    session.execute(
        text(
            """
            INSERT INTO credential_reviews
              (credential_id, decision, organisation_id, actor, decided_at, evidence)
            SELECT id, 'verified', issued_by_id, verified_by, verified_at,
                   jsonb_build_object('certificate_number', 'SYN-' || id, 'course', skill_code,
                                      'certified_on', (verified_at - interval '1 year')::date)
            FROM credentials WHERE volunteer_id = ANY(:ids) AND status = 'verified'
            """
        ),
        {"ids": ids},
    )
    summary = SeedSummary(
        volunteers=len(people),
        credentials=sum(len(p.credentials) for p in people),
        windows=sum(len(p.windows) for p in people),
    )
    record(
        session,
        actor=actor,
        action="volunteer.seeded",
        entity_type="volunteer",
        entity_id=None,
        detail={"seed": seed, "near": near.name if near else None, "radius_km": radius_km if near else None}
        | {"volunteers": summary.volunteers, "credentials": summary.credentials, "windows": summary.windows},
    )
    session.flush()
    return summary


def seed_near_town(
    session: Session, *, town: str, n: int, radius_km: float, seed: int = 0, actor: str = "demo"
) -> int:
    """`n` volunteers within `radius_km` of a town named like `Carlisle` (for the demo); returns how many."""
    summary = seed_volunteers(
        session, count=n, actor=actor, seed=seed, near=find_town(town), radius_km=radius_km
    )
    return summary.volunteers


def seed_first_aiders(
    session: Session, count: int, *, centre: tuple[float, float], phone_prefix: str, name: str
) -> None:
    """`count` active first-aiders spread within 8 km of `centre` (lon, lat), in one statement: the plain,
    quick reserve of the dispatch benchmarks and the end-to-end tests, every first aid verified. Phones
    are the prefix and five digits; names are `name` and a number."""
    session.execute(
        text(
            """
            WITH v AS (
              INSERT INTO volunteers (name, phone, location, status, languages, consent_at)
              SELECT :name || ' ' || i, :prefix || lpad(i::text, 5, '0'),
                     ST_Project(ST_MakePoint(:lon, :lat)::geography, 50 + (i * 7919) % 8000,
                                radians(i * 37 % 360)),
                     'active', ARRAY['en'], now()
              FROM generate_series(1, :n) AS i
              RETURNING id
            )
            INSERT INTO credentials (volunteer_id, skill_code, level, status, verified_at, verified_by)
            SELECT id, 'first_aid', 1, 'verified', now(), 'seed' FROM v
            """
        ),
        {"lon": centre[0], "lat": centre[1], "n": count, "prefix": phone_prefix, "name": name},
    )


def analyze_reserve(session: Session) -> None:
    """Refresh planner statistics after a bulk load, so spatial searches use the GIST index."""
    session.execute(text("ANALYZE volunteers, credentials, availability_windows"))


def _phones(count: int, *, seed: int, taken: frozenset[str]) -> list[str]:
    """Unique numbers walked through the range by a seeded stride, skipping those already held."""
    if count > PHONE_SPACE - len(taken):
        raise ValueError(f"cannot make {count} more unique numbers in {PHONE_PREFIX}xxxxxxx")
    rng = random.Random(f"{seed}:phones")
    start = rng.randrange(PHONE_SPACE)
    # A stride coprime to 10^7 visits every number in the range once before repeating.
    stride = rng.randrange(1_000_001, PHONE_SPACE, 2)
    while stride % 5 == 0:
        stride += 2
    phones: list[str] = []
    step = 0
    while len(phones) < count:
        phone = f"{PHONE_PREFIX}{(start + step * stride) % PHONE_SPACE:07d}"
        step += 1
        if phone not in taken:
            phones.append(phone)
    return phones


def _person(rng: random.Random, phone: str, lon: float, lat: float, today: date) -> SyntheticVolunteer:
    languages = ["en"]
    if rng.random() < SECOND_LANGUAGE_SHARE:
        languages.append(rng.choice(SECOND_LANGUAGES))
    windows: list[tuple[int, time, time]] = []
    if rng.random() < WINDOW_SHARE:
        days, starts, ends = rng.choice(WINDOW_PATTERNS)
        windows = [(day, starts, ends) for day in days]
    organisation = rng.choice(ORGANISATIONS) if rng.random() < ORGANISATION_SHARE else None
    credentials = [(code, _pick(rng, _LEVELS), _expiry(rng, today)) for code in _skills(rng)]
    checks = [(organisation or rng.choice(ORGANISATIONS), rng.random() < VERIFIED_SHARE) for _ in credentials]
    return SyntheticVolunteer(
        name=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
        phone=phone,
        lon=round(lon, 6),
        lat=round(lat, 6),
        max_travel_km=float(rng.randint(5, 50)) if rng.random() < TRAVEL_LIMIT_SHARE else None,
        languages=languages,
        organisation=organisation,
        credentials=credentials,
        windows=windows,
        checks=checks,
    )


def _skills(rng: random.Random) -> list[str]:
    """One to three distinct skills; most people are first-aiders, few are boat crew."""
    wanted = _pick(rng, _SKILL_COUNTS)
    skills = ["first_aid"] if rng.random() < FIRST_AID_SHARE else []
    while len(skills) < wanted:
        code = _pick(rng, _OTHER_SKILLS)
        if code not in skills:
            skills.append(code)
    return skills


def _expiry(rng: random.Random, today: date) -> date:
    """A tenth lapsed in the last two years; the rest run out over the next one to three years."""
    if rng.random() < EXPIRED_SHARE:
        return today - timedelta(days=rng.randint(1, 730))
    return today + timedelta(days=rng.randint(365, 3 * 365))


def _cumulative(options: Sequence[tuple[_V, float]]) -> tuple[list[_V], list[float]]:
    """Values and cumulative weights, worked out once: `random.choices` is much faster given them."""
    return [value for value, _ in options], list(accumulate(weight for _, weight in options))


def _pick(rng: random.Random, weighted: tuple[list[_V], list[float]]) -> _V:
    values, cum_weights = weighted
    return rng.choices(values, cum_weights=cum_weights)[0]


_SKILL_COUNTS = _cumulative(SKILL_COUNTS)
_LEVELS = _cumulative(LEVELS)
_OTHER_SKILLS = _cumulative(list(OTHER_SKILLS.items()))
