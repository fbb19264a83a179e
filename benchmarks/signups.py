"""Sign-up surge: sign-ups per second through the real `nvr api` (one process, as the README runs it)
against, in the same run, a bare endpoint that only reads and validates the same body; then how fast
the code queue drains at the provider's rate per number, and whether codes leave in order.

    python -m benchmarks.signups [--signups 3000] [--clients 32,128] [--rate 10] [--drain-s 30]
                              [--api-workers 1]

Every sign-up is a new valid mobile, from one client address (the per-address limit is lifted for the
run). Each endpoint first takes WARM_UP sign-ups that are not measured (connections opened, statements
prepared, as in a server that has been running), then one round per number of clients: a national
appeal is many people at once, and the more arrive together, the more each transaction carries. Codes
go out while the bursts run, at `--rate` SMS a second, as they would from one number; the drain is
measured over `--drain-s` seconds after the bursts and the time for a round's codes derived.
"""

import argparse
import os
import time
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from benchmarks.database import fresh_database
from benchmarks.webhooks import Form, bare_endpoint, burst, pid_serving, report
from tools.demo.runner import local_environment, services, use_environment

WARM_UP = 500  # sign-ups sent to each endpoint before measuring, as a server in a surge has been running


def bodies(count: int, version: str, *, first: int = 0) -> list[Form]:
    """`count` sign-ups from around Carlisle, each a new mobile (numbered from `first`)."""
    towns = ("Carlisle", "Penrith", "Kendal", "Workington", "Whitehaven")

    def body(i: int) -> dict[str, Any]:
        return {
            "name": f"Surge Joiner {i}",
            "phone": f"+447400{i:06d}",
            "town": towns[i % len(towns)],
            "skills": ["first_aid"] if i % 3 == 0 else [],
            "availability": ["weekend"],
            "consent": True,
            "consent_version": version,
        }

    return [("/api/v1/signups", body(i), "") for i in range(first, first + count)]


def sent_codes() -> tuple[int, int, int]:
    """(codes handed to the provider, codes waiting, codes sent out of their queue order)."""
    from app.db import get_sessionmaker
    from app.message.models import Message, MessageKind, MessageStatus

    with get_sessionmaker()() as session:
        rows = session.execute(
            select(Message.id, Message.sent_at, Message.status).where(
                Message.kind == MessageKind.verification_code
            )
        ).all()
    sent = sorted((at, i) for i, at, status in rows if at is not None)
    waiting = sum(1 for _, at, status in rows if status is MessageStatus.pending)
    inversions = sum(1 for (_, a), (_, b) in pairwise(sent) if b < a - 20)
    return len(sent), waiting, inversions


def signups_kept() -> int:
    from app.db import get_sessionmaker
    from app.signup.models import Signup

    with get_sessionmaker()() as session:
        return session.scalar(select(func.count()).select_from(Signup)) or 0


def run(signups: int, clients: list[int], rate: float, drain_s: float, api_workers: int = 1) -> None:
    """A local stack on its own database (`api_workers` API processes); for each number of clients the
    bare endpoint (one process), then ours; the drain (unless `drain_s` is 0); print the numbers."""
    fresh_database("nvr_bench_signups")
    env = local_environment(database="nvr_bench_signups", redis_db=12, rate_per_second=rate)
    env["SIGNUPS_PER_CLIENT"] = str(10**9)
    use_environment(env)
    from app.queue import get_redis
    from app.signup.consent import CURRENT

    get_redis().flushdb()
    warm_up = bodies(WARM_UP, CURRENT)
    results = []
    stack = services(env, workers=1, latency_ms=50, api_workers=api_workers)
    with stack, bare_endpoint(env) as (bare_base, bare_pid):
        api_pid = pid_serving(env["NVR_API_PORT"])
        time.sleep(2)  # let the worker connect
        for base, pid in ((bare_base, bare_pid), (env["PUBLIC_BASE_URL"], api_pid)):
            burst(base, warm_up, clients[0], pid, as_json=True)  # pools filled, statements prepared
        for round_, concurrency in enumerate(clients):
            batch = bodies(signups, CURRENT, first=WARM_UP + round_ * signups)  # new numbers each round
            bare = burst(bare_base, batch, concurrency, bare_pid, as_json=True)
            nvr = burst(env["PUBLIC_BASE_URL"], batch, concurrency, api_pid, as_json=True)
            results.append((concurrency, nvr, bare))
        sent_before, _, _ = sent_codes()
        time.sleep(drain_s)
        sent_after, waiting, inversions = sent_codes()
    processes = f"{api_workers} API process{'es' if api_workers > 1 else ''}"
    print(f"signups: {signups} sign-ups per round, {processes}, codes at {rate:.0f} SMS/s")
    for concurrency, nvr, bare in results:
        report(f"signups, {concurrency} clients", nvr, bare)
    if drain_s:
        print_drain(signups, drain_s, sent_after - sent_before, waiting, inversions)


def print_drain(signups: int, drain_s: float, sent: int, waiting: int, inversions: int) -> None:
    """How fast the code queue went down after the bursts, and whether codes kept their order."""
    drain_rate = sent / drain_s
    print(f"  sign-ups kept {signups_kept()}, codes waiting {waiting}")
    print(
        f"  code queue drains at {drain_rate:.1f} codes/s (measured over {drain_s:.0f} s): the {signups} "
        f"codes of one round take {signups / drain_rate:.0f} s in all"
        if drain_rate
        else "  no code sent"
    )
    print(f"  codes sent more than 20 places out of queue order: {inversions}")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signups", type=int, default=3000)
    parser.add_argument(
        "--clients",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[32, 128],
        help="concurrent clients, one round each (a national appeal is many people at once)",
    )
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--drain-s", type=float, default=30.0, help="0: do not measure the drain")
    parser.add_argument("--api-workers", type=int, default=1, help="processes of `nvr api`")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    run(args.signups, args.clients, args.rate, args.drain_s, args.api_workers)


if __name__ == "__main__":
    main()
