"""RQ jobs and worker entry points. Jobs take ids, open their own session, and are idempotent."""
