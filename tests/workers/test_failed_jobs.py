"""A failed job's traceback kept in Redis carries no personal data, as our logs do not."""

from redis import Redis
from rq import Queue
from rq.job import Job

from workers.main import Worker

PHONE = "+447700900123"


def explode(volunteer_id: int) -> None:
    """A job (ids in, as ours are) failing the way a unique violation does: its message quotes the row."""
    raise ValueError(f"Key (phone)=({PHONE}) already exists (volunteer {volunteer_id}).")


def test_a_failed_jobs_stored_traceback_is_redacted(redis: Redis) -> None:
    queue = Queue("nvr-test-failures", connection=redis)
    job = queue.enqueue(f"{__name__}.explode", 7)
    Worker([queue], connection=redis).work(burst=True, with_scheduler=False)
    stored = Job.fetch(job.id, connection=redis)
    assert stored.is_failed
    assert job.id in queue.failed_job_registry.get_job_ids()
    assert "ValueError" in (stored.exc_info or "") and "explode" in (stored.exc_info or "")
    results = stored.results()
    assert results and all(PHONE not in (r.exc_string or "") for r in results)
    assert PHONE not in (stored.exc_info or "")
    assert not any(PHONE.encode() in (redis.dump(key) or b"") for key in redis.keys("*"))
