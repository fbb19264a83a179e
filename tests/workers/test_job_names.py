"""Each job named in app/jobs.py is a function the workers can import by that name."""

import importlib

import pytest

from app import jobs

NAMES = sorted(value for key, value in vars(jobs).items() if key.isupper() and isinstance(value, str))


def test_every_job_is_named() -> None:
    assert len(NAMES) == 5


@pytest.mark.parametrize("name", NAMES)
def test_a_job_name_imports_a_function(name: str) -> None:
    module, _, function = name.rpartition(".")
    assert module.startswith("workers.")
    assert callable(getattr(importlib.import_module(module), function))
