"""Webhook throughput: signed replies and delivery receipts from 32 concurrent clients, against the real
`nvr api` (one process, as the README runs it) and, in the same run, a bare signed FastAPI endpoint.

    python -m benchmarks.webhooks [--callups 3000] [--replies 1500] [--receipts 1500] [--clients 32]

One incident calls up `callups` people for a need of a sixth of them; replies alternate YES and NO, so
the need fills part-way and everyone still waiting is stood down. Receipts are `delivered` callbacks
for the call-ups. After the burst we wait until every stored reply has been acted on.
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import func, select, text

from alerts.signature import SIGNATURE_HEADER, compute_signature
from benchmarks.database import fresh_database, percentile
from benchmarks.dispatch import CARLISLE, seed
from tools.demo.runner import free_port, local_environment, services, use_environment, wait_healthy

Form = tuple[str, dict[str, Any], str]  # path, fields, signature
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def pid_serving(port: str) -> int:
    """The process whose command line ends `--port <port>` (the API the demo's services started)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    words = cmdline.read().split(b"\0")
            except OSError:
                continue
            if b"api" in words and words[-3:-1] == [b"--port", port.encode()]:
                return int(entry)
    raise RuntimeError(f"no API process on port {port}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process and its live children (the processes of
    `nvr api --workers N`) have used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / TICKS_PER_S
    return own + sum(cpu_s(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                children.extend(int(n) for n in listed.read().split())
        except OSError:
            continue  # the thread ended
    return children


def declare(callups: int) -> int:
    """One incident whose first wave calls `callups` people; every call-up marked sent with a SID."""
    from app.callout.flows import declare_incident
    from app.db import unit_of_work
    from app.incident.schemas import IncidentCreate
    from app.settings import get_settings

    data = IncidentCreate.model_validate(
        {
            "title": "Benchmark flood",
            "kind": "flood",
            "area": {"type": "Point", "coordinates": list(CARLISLE)},
            "radius_km": 10,
            "max_radius_km": 10,
            "needs": [{"skill": "first_aid", "count": callups // 6}],
            "overask": 6,
            "wave_timeout_s": 3600,
        }
    )
    with unit_of_work() as session:
        incident = declare_incident(session, data=data, actor="benchmark", settings=get_settings())
        session.flush()
        session.execute(
            text(
                "UPDATE messages SET status = 'sent', sent_at = now(), "
                "provider_sid = 'SM' || md5(id::text) WHERE kind = 'callup'"
            )
        )
        return incident.id


def forms(env: dict[str, str], base: str, replies: int, receipts: int) -> tuple[list[Form], list[Form]]:
    """Signed reply and receipt webhooks, as Twilio would post them to `base`."""
    from app.db import get_sessionmaker
    from app.message.models import Message, MessageKind
    from app.volunteer.models import Volunteer

    with get_sessionmaker()() as session:
        rows = session.execute(
            select(Volunteer.phone, Message.provider_sid)
            .join(Message, Message.volunteer_id == Volunteer.id)
            .where(Message.kind == MessageKind.callup)
            .order_by(Message.id)
        ).all()
    token, account = env["TWILIO_AUTH_TOKEN"], env["TWILIO_ACCOUNT_SID"]

    def signed(path: str, fields: dict[str, str]) -> Form:
        return path, fields, compute_signature(token, base + path, fields)

    inbound = [
        signed(
            "/webhooks/twilio/sms",
            {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "SmsSid": "",
                "AccountSid": account,
                "From": str(phone),
                "To": env["TWILIO_FROM_NUMBER"],
                "Body": "YES" if i % 2 == 0 else "NO",
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsStatus": "received",
                "ApiVersion": "2010-04-01",
            },
        )
        for i, (phone, _) in enumerate(rows[:replies])
    ]
    for _, fields, _ in inbound:
        fields["SmsSid"] = fields["MessageSid"]
    inbound = [signed(path, fields) for path, fields, _ in inbound]
    status = [
        signed(
            "/webhooks/twilio/status",
            {
                "MessageSid": str(sid),
                "SmsSid": str(sid),
                "MessageStatus": "delivered",
                "SmsStatus": "delivered",
                "AccountSid": account,
                "From": env["TWILIO_FROM_NUMBER"],
                "To": str(phone),
                "ApiVersion": "2010-04-01",
            },
        )
        for phone, sid in rows[-receipts:]
    ]
    return inbound, status


def burst(
    url: str, batch: list[Form], clients: int, server_pid: int, *, as_json: bool = False
) -> dict[str, float]:
    """POST every form (or, `as_json`, every body as JSON) from `clients` threads; rate, p50/p99
    latency, the server's CPU per request, and answers by status code."""
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    local = [httpx.Client(base_url=url, timeout=60, trust_env=False) for _ in range(clients)]

    def post(i: int) -> None:
        path, fields, signature = batch[i]
        started = time.perf_counter()
        try:
            http = local[i % clients]
            if as_json:
                answer = http.post(path, json=fields)
            else:
                answer = http.post(path, data=fields, headers={SIGNATURE_HEADER: signature})
            codes[str(answer.status_code)] += 1
        except httpx.HTTPError as error:
            codes[type(error).__name__] += 1
        latencies.append(time.perf_counter() - started)

    started, cpu_before = time.perf_counter(), cpu_s(server_pid)

    def client_share(c: int) -> None:
        # Each client posts its share in turn, as independent senders would.
        for i in range(c, len(batch), clients):
            post(i)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_share, range(clients)))
    elapsed, cpu_used = time.perf_counter() - started, cpu_s(server_pid) - cpu_before
    for client in local:
        client.close()
    ok = sum(n for code, n in codes.items() if code.startswith("2"))
    return {
        "rate": ok / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cpu_ms": cpu_used / len(batch) * 1000,
        "non_2xx": len(batch) - ok,
        **{f"http_{code}": n for code, n in sorted(codes.items())},
    }


@contextmanager
def bare_endpoint(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """The bare endpoints (benchmarks/bare.py) in their own uvicorn process, same settings as the API:
    (URL, pid)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "benchmarks.bare:app", "--port", str(port)]
    child = subprocess.Popen(
        [*command, "--log-level", "warning"],
        env={**os.environ, **env, "BARE_PUBLIC_BASE_URL": base},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(base + "/healthz")
        yield base, child.pid
    finally:
        child.terminate()
        child.wait(10)


def drained(timeout_s: float = 300.0) -> float:
    """Seconds until every stored reply has been acted on (no unprocessed inbound message left)."""
    from app.db import get_sessionmaker
    from app.webhook.models import InboundPending

    started = time.perf_counter()
    with get_sessionmaker()() as session:
        while time.perf_counter() - started < timeout_s:
            if not session.scalar(select(func.count()).select_from(InboundPending)):
                return time.perf_counter() - started
            session.rollback()
            time.sleep(0.1)
    return float("nan")


def receipts_applied(timeout_s: float = 300.0) -> float:
    """Seconds until every stored receipt of a known message has been applied."""
    from app.db import get_sessionmaker
    from app.message.models import Message, Receipt

    started = time.perf_counter()
    with get_sessionmaker()() as session:
        while time.perf_counter() - started < timeout_s:
            left = session.scalar(
                select(func.count())
                .select_from(Receipt)
                .join(Message, Message.provider_sid == Receipt.provider_sid)
                .where(Receipt.applied.is_(False))
            )
            if not left:
                return time.perf_counter() - started
            session.rollback()
            time.sleep(0.1)
    return float("nan")


def report(name: str, nvr: dict[str, float], bare: dict[str, float]) -> None:
    """One line each and the ratio of rates."""
    for who, numbers in (("nvr api", nvr), ("bare", bare)):
        extra = ", ".join(f"{k} {v:.0f}" for k, v in numbers.items() if k.startswith("http_"))
        print(
            f"  {name:8} {who:8} {numbers['rate']:7.0f}/s  p50 {numbers['p50_ms']:6.1f} ms  "
            f"p99 {numbers['p99_ms']:7.1f} ms  server CPU {numbers['cpu_ms']:5.2f} ms each  "
            f"non-2xx {numbers['non_2xx']:.0f}  ({extra})"
        )
    print(f"  {name:8} ratio    {nvr['rate'] / bare['rate']:.3f}")


def run(callups: int, replies: int, receipts: int, clients: int) -> None:
    """Set up a local stack on its own database, fire both bursts at both endpoints, print the numbers."""
    fresh_database("nvr_bench_webhooks")
    env = local_environment(database="nvr_bench_webhooks", redis_db=12, rate_per_second=100_000)
    use_environment(env)
    from app.queue import get_redis

    seed(callups, phone_prefix="+4479111")  # valid UK mobiles: they will reply
    declare(callups)
    get_redis().flushdb()  # the call-ups count as sent: nothing to send
    with services(env, workers=2, latency_ms=50), bare_endpoint(env) as (bare_base, bare_pid):
        api_pid = pid_serving(env["NVR_API_PORT"])
        inbound, status = forms(env, env["PUBLIC_BASE_URL"], replies, receipts)
        bare_inbound, bare_status = forms(env, bare_base, replies, receipts)
        time.sleep(2)  # let the workers connect
        # The bare endpoint first, so the workers still acting on our replies never slow it down.
        bare_replies = burst(bare_base, bare_inbound, clients, bare_pid)
        nvr_replies = burst(env["PUBLIC_BASE_URL"], inbound, clients, api_pid)
        drain_s = drained()
        bare_receipts = burst(bare_base, bare_status, clients, bare_pid)
        nvr_receipts = burst(env["PUBLIC_BASE_URL"], status, clients, api_pid)
        applied_s = receipts_applied()
    results = {"replies": (nvr_replies, bare_replies), "receipts": (nvr_receipts, bare_receipts)}
    print(f"webhooks: {callups} call-ups, {replies} replies, {receipts} receipts, {clients} clients")
    for name, (nvr, bare) in results.items():
        report(name, nvr, bare)
    print(f"  every stored reply acted on {drain_s:.1f} s after its burst ended")
    print(f"  every receipt applied {applied_s:.1f} s after its burst ended")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callups", type=int, default=3000)
    parser.add_argument("--replies", type=int, default=1500)
    parser.add_argument("--receipts", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(args.callups, args.replies, args.receipts, args.clients)


if __name__ == "__main__":
    main()
