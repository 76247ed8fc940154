"""Property-based fuzzing of the committed OpenAPI document against a real monolith.

Schemathesis generates valid and invalid requests for every operation in contract/openapi.yaml;
whatever it sends, the monolith must not answer 5xx and its answers must match the schema.
Generation is deterministic and bounded so the run is reproducible and takes a few minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.contract.api import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.live import REPO_ROOT, LiveBackend

SCHEMA_PATH = REPO_ROOT / "contract" / "openapi.yaml"
MAX_EXAMPLES = 50

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="session")
def fuzz_backend() -> Iterator[LiveBackend]:
    with LiveBackend(name="fuzz", workers=2) as backend:
        yield backend


@pytest.fixture(scope="session")
def staff_token(fuzz_backend: LiveBackend) -> str:
    # Staff can reach every operation (customers get 403 on catalog writes), so more code runs.
    response = httpx.post(
        f"{fuzz_backend.base_url}/api/auth/token",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


# Loaded at import and pointed at the backend per call: schemathesis' fixture-based lazy
# loader (schemathesis.pytest.from_fixture) fails on pytest 9 (it sets Item._nodeid).
schema = schemathesis.openapi.from_path(SCHEMA_PATH)
schema.config.update(request_timeout=30)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.parametrize()
@pytest.mark.timeout(180)
def test_no_server_error_and_every_answer_matches_the_schema(case, fuzz_backend, staff_token):
    case.call_and_validate(
        base_url=fuzz_backend.base_url,
        headers={"Authorization": f"Bearer {staff_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
