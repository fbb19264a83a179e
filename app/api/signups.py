"""HTTP routes for joining: the public /join page and the JSON API behind it. No token: anyone may join.

The page is plain HTML forms rendered here, so it works on an old phone with JavaScript off (a town
instead of a pin); with JavaScript the vendored Leaflet map lets them drop a pin. Both the page and
the API call the one sign-up service; the page shows each refusal in words beside the form.
"""

import asyncio
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep
from app.api.pages import HEAD, PAGE_HEADERS, page_policy, static_file, static_files
from app.api.problems import status_for
from app.errors import DomainError
from app.organisation.models import Organisation
from app.settings import Settings
from app.signup import consent
from app.signup import service as signups
from app.signup.codes import CodeCheck
from app.signup.intake import intake
from app.signup.schemas import CodeEntry, SignupCreate, SignupRef, SignupStarted, SignupVerified
from app.skill.service import list_skills
from app.volunteer.models import ConsentScope
from geo.places import uk_towns

router = APIRouter(tags=["signup"])

HERE = FilePath(__file__).resolve().parents[1] / "signup"
STATIC = static_files(HERE)
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(), auto_reload=False
)
# A service's message starts in lower case; on the page it is a sentence. Names in it keep their case.
TEMPLATES.filters["sentence"] = lambda text: str(text)[:1].upper() + str(text)[1:]
# Languages offered as tick boxes (codes as the reserve stores them): English, Welsh, Scottish Gaelic,
# Irish, British Sign Language, and the languages most spoken in UK homes after English.
LANGUAGES = {
    "en": "English",
    "cy": "Welsh (Cymraeg)",
    "gd": "Scottish Gaelic",
    "ga": "Irish",
    "bfi": "British Sign Language",
    "pl": "Polish",
    "ro": "Romanian",
    "pa": "Punjabi",
    "ur": "Urdu",
    "bn": "Bengali",
    "gu": "Gujarati",
    "ar": "Arabic",
    "pt": "Portuguese",
    "es": "Spanish",
}
USUALLY = {
    "weekday_daytime": "Weekdays, daytime (8am to 6pm)",
    "weekday_evening": "Weekday evenings (6pm to 11pm)",
    "weekend": "Weekends",
}
TRAVEL_KM = (5, 10, 20, 40, 80)


class Choice(BaseModel):
    """One option of the sign-up form."""

    code: str
    name: str


class SignupForm(BaseModel):
    """What the sign-up form offers, and the consent wording to show with its version."""

    skills: list[Choice]
    organisations: list[str]
    languages: list[Choice]
    availability: list[Choice]
    consent_version: str
    consent_service: str
    consent_marketing: str


def _organisations(session: Session) -> list[str]:
    return list(session.scalars(select(Organisation.name).order_by(Organisation.name)))


def _form(session: Session) -> SignupForm:
    return SignupForm(
        skills=[Choice(code=s.code, name=s.name) for s in list_skills(session)],
        organisations=_organisations(session),
        languages=[Choice(code=c, name=n) for c, n in LANGUAGES.items()],
        availability=[Choice(code=c, name=n) for c, n in USUALLY.items()],
        consent_version=consent.CURRENT,
        consent_service=consent.wording(ConsentScope.service),
        consent_marketing=consent.wording(ConsentScope.marketing),
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/api/v1/signups/form")
def signup_form(session: SessionDep) -> SignupForm:
    """The choices the sign-up form offers (skills, organisations, languages, times) and the consent
    wording with its version, which a sign-up must send back."""
    return _form(session)


Responses = dict[int | str, dict[str, Any]]
STARTING: Responses = {
    409: {"description": "The consent wording changed since the form was opened: read it again"},
    429: {"description": "Too many codes to this number lately, or sign-ups from this address"},
}
VERIFYING: Responses = {
    404: {"description": "No sign-up waiting for a code with this reference (verified or expired)"},
    409: {"description": "The code expired, was replaced or had too many wrong tries: ask for a new one"},
}
RESENDING: Responses = {
    404: VERIFYING[404],
    429: {"description": "The last code is still on its way, was sent under a minute ago, or too many"},
}


@router.post("/api/v1/signups", status_code=status.HTTP_201_CREATED, responses=STARTING)
async def create_signup(data: SignupCreate, request: Request) -> SignupStarted:
    """Join: the sign-up is kept and a 6-digit code is sent by SMS to the number; nothing else is sent
    to it until the code comes back. The answer is the same for a number already on the reserve.

    Sign-ups arriving together are committed together (app/signup/intake.py); each is answered only
    once it is committed."""
    return await asyncio.wrap_future(intake().submit(data, _client(request)))


@router.post("/api/v1/signups/verify", responses=VERIFYING)
def verify_signup(data: CodeEntry, session: SessionDep) -> SignupVerified:
    """The code from the SMS: right, and the person is on the reserve; wrong, and the try is counted."""
    outcome, left = signups.verify(session, token=data.signup, code=data.code)
    if outcome is not CodeCheck.ok:
        session.commit()  # the wrong guess counts, though the answer is an error
        raise signups.refusal(outcome, left)
    return SignupVerified()


@router.post("/api/v1/signups/resend", status_code=status.HTTP_201_CREATED, responses=RESENDING)
def resend_code(data: SignupRef, session: SessionDep) -> SignupStarted:
    """A new code for a sign-up still waiting (the old one stops working)."""
    return signups.resend(session, token=data.signup)


# The page: GET shows the form, each POST shows the next step or the same step with what went wrong.


def _render(settings: Settings, name: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """A step of the join page: the shared head, this step's body, the page headers."""
    head = HEAD.substitute(
        title="Join the National Volunteer Reserve",
        stylesheets='<link rel="stylesheet" href="/map/static/leaflet/leaflet.css">\n'
        '<link rel="stylesheet" href="/join/static/join.css">',
    )
    body = TEMPLATES.get_template(name).render(
        basemap_url=settings.basemap_url, basemap_attribution=settings.basemap_attribution, **values
    )
    policy = page_policy(settings.basemap_url, form_action="'self'")
    return HTMLResponse(
        head + body, status_code=status_code, headers={"Content-Security-Policy": policy, **PAGE_HEADERS}
    )


def _form_page(
    session: Session,
    settings: Settings,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        settings,
        "join.html",
        status_code=status_code,
        form=_form(session),
        towns=[t.name for t in uk_towns()],
        travel_km=TRAVEL_KM,
        values=values or {"languages": ["en"], "max_travel_km": "20"},
        errors=errors or {},
    )


FRIENDLY = {
    "name": "Give your name.",
    "consent": "Tick the box to agree: we cannot call you up without it.",
    "location": "Give where you can respond from: a town, or a pin on the map.",
    "max_travel_km": "Choose how far you can travel.",
}


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """Each invalid field's first problem, in words for the person filling in the form."""
    found: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if field in ("form", "town", "location") and "pin on the map or a town" in message:
            field = "location"
        found.setdefault(field, FRIENDLY.get(field, message) if field != "phone" else message)
    return found


def _domain_errors(exc: DomainError) -> dict[str, str]:
    return {str(exc.extra.get("field", "form")): exc.detail}


def _signup_data(values: dict[str, Any], *, consent_version: str) -> dict[str, Any]:
    """The form's fields as the API's sign-up (a pin when both coordinates came, else the town)."""
    data: dict[str, Any] = {
        "name": values["name"],
        "phone": values["phone"],
        "max_travel_km": values["max_travel_km"] or 20,
        "skills": values["skills"],
        "organisations": values["organisations"],
        "languages": values["languages"] or ["en"],
        "availability": values["availability"],
        "consent_version": consent_version,
        "marketing": values["marketing"] == "yes",
    }
    if values["consent"] == "yes":
        data["consent"] = True
    lat, lon = values["lat"].strip(), values["lon"].strip()
    if lat and lon:
        data["location"] = {"type": "Point", "coordinates": [lon, lat]}
    else:
        data["town"] = values["town"]
    return data


FormText = Annotated[str, Form(max_length=400)]
FormList = Annotated[list[str], Form(max_length=40)]


@router.get("/join", response_class=HTMLResponse, include_in_schema=False)
def join_page(session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The sign-up form."""
    return _form_page(session, settings)


@router.post("/join", response_class=HTMLResponse, include_in_schema=False)
def join_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    name: FormText = "",
    phone: FormText = "",
    town: FormText = "",
    lat: FormText = "",
    lon: FormText = "",
    max_travel_km: FormText = "",
    skills: FormList = [],  # noqa: B006 (FastAPI copies defaults)
    organisations: FormList = [],  # noqa: B006
    languages: FormList = [],  # noqa: B006
    availability: FormList = [],  # noqa: B006
    consent: FormText = "",
    consent_version: FormText = "",
    marketing: FormText = "",
) -> HTMLResponse:
    """The form sent: on to the code step, or the form again with each problem beside its field."""
    values = {
        "name": name,
        "phone": phone,
        "town": town,
        "lat": lat,
        "lon": lon,
        "max_travel_km": max_travel_km,
        "skills": skills,
        "organisations": organisations,
        "languages": languages,
        "availability": availability,
        "marketing": marketing,
        "consent": consent,
    }
    raw = _signup_data(values, consent_version=consent_version)
    try:
        started = intake().submit(SignupCreate.model_validate(raw), _client(request)).result()
    except ValidationError as exc:
        return _form_page(session, settings, values=values, errors=_field_errors(exc), status_code=422)
    except DomainError as exc:
        return _form_page(
            session, settings, values=values, errors=_domain_errors(exc), status_code=status_for(exc)
        )
    return _code_page(settings, signup=started.signup, phone_ending=started.phone_ending)


def _code_page(
    settings: Settings,
    *,
    signup: str,
    phone_ending: str,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        settings,
        "code.html",
        status_code=status_code,
        signup=signup,
        phone_ending=phone_ending[-3:],
        error=error,
        notice=notice,
    )


@router.post("/join/verify", response_class=HTMLResponse, include_in_schema=False)
def join_verify(
    session: SessionDep,
    settings: SettingsDep,
    signup: FormText = "",
    code: FormText = "",
    phone_ending: FormText = "",
) -> HTMLResponse:
    """The code sent: done, or the code step again saying what was wrong."""
    again = {"signup": signup, "phone_ending": phone_ending}
    try:
        entry = CodeEntry(signup=signup, code=code)
        outcome, left = signups.verify(session, token=entry.signup, code=entry.code)
    except ValidationError:
        return _code_page(settings, **again, error="Type the 6-digit code from the text.", status_code=422)
    except DomainError as exc:
        return _code_page(settings, **again, error=exc.detail, status_code=status_for(exc))
    if outcome is not CodeCheck.ok:
        refusal = signups.refusal(outcome, left)
        # Returned, not raised: the session commits, so the wrong guess is counted.
        return _code_page(settings, **again, error=refusal.detail, status_code=status_for(refusal))
    return _render(settings, "joined.html")


@router.post("/join/resend", response_class=HTMLResponse, include_in_schema=False)
def join_resend(
    session: SessionDep, settings: SettingsDep, signup: FormText = "", phone_ending: FormText = ""
) -> HTMLResponse:
    """Ask for a new code."""
    again = {"signup": signup, "phone_ending": phone_ending}
    try:
        started = signups.resend(session, token=SignupRef(signup=signup).signup)
    except ValidationError:
        return _code_page(
            settings, **again, error="Start again: this page lost its sign-up.", status_code=422
        )
    except DomainError as exc:
        return _code_page(settings, **again, error=exc.detail, status_code=status_for(exc))
    return _code_page(
        settings,
        signup=started.signup,
        phone_ending=started.phone_ending,
        notice="We have sent a new code. Only the newest code works.",
    )


@router.get("/join/static/{path:path}", include_in_schema=False)
def static(path: str) -> FileResponse:
    """The join page's script and styles (Leaflet is the map's vendored copy under /map/static/leaflet)."""
    return static_file(STATIC, path)
