"""Dispatch throughput: call-ups per second from declaring an incident to all handed to the simulator,
beside the raw rate one process can POST to the simulator with the same concurrency.

    python -m benchmarks.dispatch [--callups 2000] [--workers 4] [--database nvr_bench_dispatch]

The global send-rate limit is lifted for the measurement (a UK long code allows about 10/s, which would
make this a benchmark of the limit, not of the pipeline).
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, text

from alerts.sender import TwilioSender
from app.message.models import Message, MessageKind, MessageStatus
from benchmarks.database import fresh_database
from tools.demo.runner import local_environment, services, use_environment
from tools.reserve import seed_first_aiders
from workers.jobs import SEND_THREADS

SENT = (MessageStatus.queued, MessageStatus.sent, MessageStatus.delivered)
CARLISLE = (-2.9350, 54.8925)


def seed(n: int, *, phone_prefix: str = "+4479113") -> None:
    """`n` first-aiders within 8 km of Carlisle, in one statement; phones are the prefix and 5 digits."""
    from app.db import unit_of_work

    with unit_of_work() as session:
        seed_first_aiders(session, n, centre=CARLISLE, phone_prefix=phone_prefix, name="Bench")
        session.execute(text("ANALYZE volunteers, credentials"))


def pipeline_rate(n: int) -> tuple[float, float]:
    """Seconds to the first and the last call-up handed over, from the moment of declaring."""
    from app.callout.flows import declare_incident
    from app.db import get_sessionmaker, unit_of_work
    from app.incident.schemas import IncidentCreate
    from app.settings import get_settings

    data = IncidentCreate.model_validate(
        {
            "title": "Benchmark flood",
            "kind": "flood",
            "area": {"type": "Point", "coordinates": list(CARLISLE)},
            "radius_km": 10,
            "max_radius_km": 10,
            "needs": [{"skill": "first_aid", "count": n}],
            "overask": 1,
            "wave_timeout_s": 3600,
        }
    )
    started = time.perf_counter()
    with unit_of_work() as session:
        declare_incident(session, data=data, actor="benchmark", settings=get_settings())
    first = None
    with get_sessionmaker()() as session:
        while True:
            done = session.scalar(
                select(func.count()).where(Message.kind == MessageKind.callup, Message.status.in_(SENT))
            )
            session.rollback()
            if done and first is None:
                first = time.perf_counter() - started
            if done == n:
                return first or 0.0, time.perf_counter() - started
            time.sleep(0.05)


def raw_rate(n: int, concurrency: int, env: dict[str, str]) -> float:
    """Messages per second one process POSTs to the simulator with `concurrency` threads."""
    sender = TwilioSender(
        env["TWILIO_ACCOUNT_SID"],
        env["TWILIO_AUTH_TOKEN"],
        from_number=env["TWILIO_FROM_NUMBER"],
        api_base=env["TWILIO_API_BASE"],
    )
    body = "NVR call-up: flooding, Carlisle. Need: first aid. Reply YES 1 to go or NO 1."

    def send(i: int) -> None:
        sender.send(to=f"+4479114{i:05d}", body=body, status_callback=None, validity_period_s=1800)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, range(n)))
    return n / (time.perf_counter() - started)


def run(callups: int, workers: int, database: str = "nvr_bench_dispatch") -> None:
    """Set up a local stack on its own database, measure both rates and print them."""
    fresh_database(database)
    env = local_environment(database=database, redis_db=13, rate_per_second=100_000)
    use_environment(env)
    from app.queue import get_redis

    get_redis().flushdb()
    seed(callups)
    with services(env, workers=workers, latency_ms=50):
        concurrency = workers * SEND_THREADS
        raw = raw_rate(callups, concurrency, env)  # first, while the simulator is idle
        time.sleep(2)  # let the workers connect
        first, total = pipeline_rate(callups)
    rate = callups / total
    print(f"dispatch: {callups} call-ups, {workers} worker processes x {SEND_THREADS} send threads")
    print(f"  declare -> first call-up handed to the simulator: {first * 1000:.0f} ms")
    print(f"  declare -> all {callups} handed over: {total:.2f} s = {rate:.0f} call-ups/s")
    print(f"  raw POST rate, one process, {concurrency} threads: {raw:.0f} messages/s")
    print(f"  pipeline / raw: {rate / raw:.2f}")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callups", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", default="nvr_bench_dispatch", help="scratch database (rebuilt)")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(args.callups, args.workers, args.database)


if __name__ == "__main__":
    main()
