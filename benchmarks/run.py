"""Run every benchmark in turn and print their numbers (`make bench`)."""

from benchmarks import dispatch, selection


def main() -> None:
    """Selection latency, then dispatch throughput."""
    selection.run(volunteers=100_000, incidents=200)
    dispatch.run(callups=2000, workers=4)


if __name__ == "__main__":
    main()
