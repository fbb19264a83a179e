"""Twilio's error codes as the simulator plays them, and Twilio's error JSON."""

from typing import Any

# code -> (HTTP status, message), as Twilio answers a refused API request.
API_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21624: (400, "Invalid validity period value"),
}

# code -> (final status, message), for messages accepted and then not delivered. Carriers report
# 30008 with either status; the simulator uses it to play a "failed" message.
DELIVERY_ERRORS: dict[int, tuple[str, str]] = {
    30003: ("undelivered", "Unreachable destination handset"),
    30005: ("undelivered", "Unknown destination handset"),
    30006: ("undelivered", "Landline or unreachable carrier"),
    30007: ("undelivered", "Message filtered"),
    30008: ("failed", "Unknown error"),
}

# A message still queued when its ValidityPeriod runs out is never sent.
VALIDITY_EXPIRED = 30036


def error_body(code: int) -> dict[str, Any]:
    """Twilio's REST error JSON for a code, which twilio-python turns into TwilioRestException."""
    status, message = API_ERRORS[code]
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
