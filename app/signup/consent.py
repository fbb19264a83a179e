"""The consent wording shown at /join, by version: what a volunteer agreed to is kept word for word.

A new wording gets a new version and the old ones stay here, so every recorded consent can still be
read as it was shown. A form served with an older version than the current one is refused at submit
(the person must read the current wording), never recorded as agreeing to words they did not see.
"""

from app.volunteer.models import ConsentScope

WORDING: dict[str, dict[ConsentScope, str]] = {
    "2026-12": {
        ConsentScope.service: (
            "I agree that the National Volunteer Reserve keeps my name, mobile number, where I can respond "
            "from, how far I will travel, my skills, organisations, languages and availability, and texts "
            "me when an emergency or environmental job near me needs people like me, and the messages "
            "that run those call-ups (stand-downs, updates, safety checks, reminders that my details are "
            "still right). I can pause, see what is held, stop or leave at any time by text."
        ),
        ConsentScope.marketing: (
            "Also send me occasional news about the reserve (not call-ups). I can stop these at any time."
        ),
    },
}
CURRENT = "2026-12"


def wording(scope: ConsentScope, version: str = CURRENT) -> str:
    """The exact words shown for this scope in this version."""
    return WORDING[version][scope]
