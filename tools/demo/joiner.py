"""A member of the public joining during the demo, through the /join page's own forms.

They fill in the form (a town, one skill), wait for the code the SMS simulator received for their
number, type it in, and are then on the reserve like anyone else: the flood calls them up too.
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
    api_url: str, simulator: SimulatorClient, *, name: str, phone: str, town: str, skill: str
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
