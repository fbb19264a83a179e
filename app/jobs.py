"""Every RQ job, named by its dotted path: the app enqueues by name and never imports `workers`.

tests/workers/test_job_names.py imports each one, so renaming a job in `workers` fails a test here
rather than a queued job at run time.
"""

SEND_MESSAGES = "workers.jobs.send_messages"
RUN_WAVE = "workers.jobs.run_wave"
REFRESH_CAPACITY = "workers.jobs.refresh_capacity"
PROCESS_INBOUND = "workers.inbound.process_inbound"
APPLY_RECEIPTS = "workers.inbound.apply_receipts"
