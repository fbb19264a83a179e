"""Run every benchmark in turn and print their numbers (`make bench`)."""

from benchmarks import dispatch, maps, selection, signups, webhooks


def main() -> None:
    """Selection latency, dispatch, webhook and sign-up throughput, then the map layers on a million
    volunteers."""
    selection.run(volunteers=100_000, incidents=200)
    selection.run(volunteers=1_000_000, incidents=200, unindexed=20)
    dispatch.run(callups=2000, workers=4)
    webhooks.run(callups=3000, replies=1500, receipts=1500, clients=32)
    signups.run(signups=3000, clients=[32, 128], rate=10.0, drain_s=30.0)
    signups.run(signups=3000, clients=[128], rate=10.0, drain_s=0, api_workers=2)  # one per core
    maps.run(volunteers=1_000_000, requests=200, reuse=False)


if __name__ == "__main__":
    main()
