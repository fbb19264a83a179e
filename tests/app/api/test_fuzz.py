"""Schemathesis over /openapi.json as every role: no server errors, and answers as documented."""

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from app.auth.models import Role
from tests.app.mapdata import add_area
from tests.app.reserve import CARLISLE, add_volunteer, incident_body
from tests.conftest import bearer

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
EXAMPLES_PER_OPERATION = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Streams run until closed: fuzzing one would wait for its whole lifetime.
SKIPPED = {"GET /api/v1/map/live"}


@dataclass
class Tally:
    """What the fuzzing found, so a failure lists every broken operation at once."""

    cases: int = 0
    server_errors: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    def report(self, elapsed_s: float) -> str:
        """Cases run, server errors per operation and role, then each failed check once."""
        errors = sum(self.server_errors.values())
        lines = [f"schemathesis: {self.cases} cases in {elapsed_s:.1f} s, {errors} server errors"]
        lines += [f"{n} x 5xx {where}" for where, n in self.server_errors.most_common()]
        lines += [f"\n{where}:\n{text}" for where, text in self.failures.items()]
        return "\n".join(lines)


@pytest.fixture
def seeded(client: TestClient, db: Session, coordinator: dict[str, str]) -> None:
    """A few real records, so ids in the fuzzed paths sometimes exist."""
    add_area(db, "E48000004", CARLISLE)
    for km in (1, 2, 3):
        add_volunteer(db, km=km)
    db.commit()
    assert client.post("/api/v1/incidents", json=incident_body(), headers=coordinator).status_code == 201


@pytest.mark.slow  # about 1,155 cases: alone it takes half a minute
def test_no_input_is_a_server_error_and_answers_match_the_schema(
    client: TestClient, db: Session, seeded: None
) -> None:
    roles: dict[str, dict[str, str]] = {"none": {}}
    for role in Role:
        roles[role.value] = bearer(db, role, area="E48000004" if role == Role.lrf_viewer else None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    tally = Tally()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue
        _fuzz(operation, roles, tally)
    report = tally.report(time.monotonic() - started)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(report, encoding="utf-8")
    assert not tally.server_errors and not tally.failures, report


def _fuzz(operation: schemathesis.APIOperation, roles: dict[str, dict[str, str]], tally: Tally) -> None:
    """Up to EXAMPLES_PER_OPERATION cases of one operation, the roles taking turns."""
    names = sorted(roles)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(operation.as_strategy(mode) for mode in GenerationMode))
    def run(case: schemathesis.Case) -> None:
        role = names[tally.cases % len(names)]  # in turn, so every role meets every operation
        tally.cases += 1
        headers = {**(case.headers or {}), **roles[role]}
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # an exception no handler answered: the server would say 500
            tally.server_errors[f"{operation.label} as {role}"] += 1
            tally.failures.setdefault(f"{operation.label} as {role}", f"raised {type(exc).__name__}")
            return
        if response.status_code >= 500:
            tally.server_errors[f"{operation.label} as {role}"] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:
            tally.failures.setdefault(f"{operation.label} as {role}", str(exc)[:1500])

    run()
