"""Crash points for the fault tests, inert unless the FAULT_POINT setting names one.

The first worker process to reach the named point SIGKILLs itself (a Redis key, set once, makes it the
first only and tells the test when it happened), so a test can kill a worker exactly after dequeue,
after claim, mid-send or after the provider accepted, and time how long the others take to recover.
"""

import os
import signal
import threading

from app.queue import get_redis
from app.settings import FaultPoint, get_settings

FIRED_KEY = "nvr:fault-fired"
IN_FLIGHT_DELAY_S = 0.5  # time for the request to reach the provider; the test makes its answer slower


def _fire(name: FaultPoint) -> bool:
    """Whether this process is the one to die at `name`."""
    return get_settings().fault_point == name and bool(get_redis().set(FIRED_KEY, name, nx=True))


def crash_point(name: FaultPoint) -> None:
    """Die here, now, if the test asked for this point."""
    if _fire(name):
        os.kill(os.getpid(), signal.SIGKILL)


def crash_soon(name: FaultPoint) -> None:
    """Die a moment from now (while the caller's provider call is in flight), if the test asked."""
    if _fire(name):
        threading.Timer(IN_FLIGHT_DELAY_S, os.kill, (os.getpid(), signal.SIGKILL)).start()
