"""A member of the public joining during the demo, through the /join page's own forms.

They fill in the form (a town, one skill, their organisation), wait for the code the SMS simulator
received for their number, type it in, and are then on the reserve with a claimed, pending skill. Their
organisation's verifier then verifies it through the API (`verify_claim`), as it would after seeing
their certificate, so the flood calls them up too: the skill they claim needs verification.
"""

import re
import time
from dataclasses import dataclass

import httpx

from simulator.client import SimulatorClient

CODE = re.compile(r"^(\d{6}) is your NVR code")
SIGNUP_FIELD = re.compile(r'name="signup" value="([^"]+)"')


@dataclass
class Joined:
    """How joining went: the seconds the code took to arrive, and the whole sign-up's."""

    phone: str
    code_s: float
    total_s: float


def join_through_the_page(
    api_url: str,
    simulator: SimulatorClient,
    *,
    name: str,
    phone: str,
    town: str,
    skill: str,
    organisation: str,
) -> Joined:
    """Join as a person would at /join; raises RuntimeError saying which step failed."""
    started = time.monotonic()
    with httpx.Client(base_url=api_url, timeout=30, trust_env=False) as web:
        version = web.get("/api/v1/signups/form").json()["consent_version"]
        form = {
            "name": name,
            "phone": phone,
            "town": town,
            "max_travel_km": "20",
            "skills": [skill],
            "organisations": [organisation],
            "languages": ["en"],
            "consent": "yes",
            "consent_version": version,
        }
        page = web.post("/join", data=form)
        found = SIGNUP_FIELD.search(page.text)
        if page.status_code != 200 or found is None:
            raise RuntimeError(f"the join form was refused ({page.status_code})")
        code, code_s = _wait_for_code(simulator, phone, started)
        done = web.post("/join/verify", data={"signup": found.group(1), "code": code})
        if done.status_code != 200 or "You are on the reserve" not in done.text:
            raise RuntimeError(f"the code was refused ({done.status_code})")
    return Joined(phone=phone, code_s=code_s, total_s=time.monotonic() - started)


def verify_claim(api_url: str, verifier_token: str, *, name: str, skill: str) -> int:
    """The organisation's verifier finds the joiner's pending claim in its queue and verifies it on the
    evidence of a (made-up) certificate; returns the credential's id, or raises RuntimeError."""
    headers = {"Authorization": f"Bearer {verifier_token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30, trust_env=False) as api:
        offset, found = 0, None
        while found is None:
            page = api.get("/api/v1/verifications", params={"limit": 200, "offset": offset}).json()
            found = next(
                (i for i in page["items"] if i["volunteer_name"] == name and i["skill"] == skill), None
            )
            offset += len(page["items"])
            if found is None and (not page["items"] or offset >= page["total"]):
                raise RuntimeError(f"{name}'s {skill} is not in {page['organisation']}'s queue")
        evidence = {"certificate_number": "DEMO-0001", "course": skill, "certified_on": "2026-01-15"}
        done = api.post(f"/api/v1/verifications/{found['credential_id']}/verify", json=evidence)
        if done.status_code != 200:
            raise RuntimeError(f"the verifier could not verify the claim ({done.status_code})")
    return int(found["credential_id"])


def _wait_for_code(
    simulator: SimulatorClient, phone: str, started: float, timeout_s: float = 60.0
) -> tuple[str, float]:
    while time.monotonic() - started < timeout_s:
        for message in simulator.messages(phone):
            match = CODE.match(message["body"])
            if message["direction"] != "inbound" and match:
                return match.group(1), time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"no code reached the simulator within {timeout_s:.0f} s")
