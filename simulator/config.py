"""Settings of one simulator instance, passed in by whoever starts it."""

from dataclasses import dataclass, field

from simulator.errors import DELIVERY_ERRORS

# Codes a fail_numbers entry may name: POST refusals and delivery failures.
FAILURE_CODES = frozenset({21211, 21408, 21610, 21614, 20429, 20500, 20503} | set(DELIVERY_ERRORS))


@dataclass
class SimulatorConfig:
    """How the simulator behaves: credentials, where the app listens, and which failures to play."""

    account_sid: str
    auth_token: str
    webhook_base_url: str  # the app's public base; inbound SMS go to {base}/webhooks/twilio/sms
    phone_number: str = "+447700900000"  # our Twilio number: inbound To and outbound From
    sender_numbers: tuple[str, ...] = ()  # the account's other numbers, which may send too
    messaging_service_sid: str | None = None
    latency_ms: int = 0  # before each status callback
    response_delay_ms: int = 0  # between accepting a message and answering the POST (a slow provider)
    transient_failure_rate: float = 0.0  # share of message POSTs refused with 429 or 503
    # To number -> Twilio error code. 21211/21408/21610/21614 refuse the POST with 400, 20429 with
    # 429, 20500/20503 with 500/503; 3000x accept it and then report undelivered or failed.
    fail_numbers: dict[str, int] = field(default_factory=dict)
    seed: int | None = None
    http_timeout_s: float = 15.0  # Twilio gives a webhook 15 seconds to answer

    @property
    def numbers(self) -> tuple[str, ...]:
        """Every number of the account: an outbound From must be one of them."""
        return (self.phone_number, *(n for n in self.sender_numbers if n != self.phone_number))

    def __post_init__(self) -> None:
        if not self.account_sid or not self.auth_token:
            raise ValueError("the simulator needs an account SID and an auth token")
        if not 0.0 <= self.transient_failure_rate <= 1.0:
            raise ValueError("transient_failure_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.response_delay_ms < 0:
            raise ValueError("latency_ms and response_delay_ms must not be negative")
        unknown = {code for code in self.fail_numbers.values() if code not in FAILURE_CODES}
        if unknown:
            raise ValueError(f"fail_numbers has codes the simulator does not play: {sorted(unknown)}")
