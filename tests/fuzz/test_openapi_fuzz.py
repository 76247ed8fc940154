"""Property-based fuzzing of the committed OpenAPI document against the real shop.

Schemathesis generates valid and invalid requests for every operation in contract/openapi.yaml
and sends them to each target: a monolith on its own, then the proxy (real nginx) in front of the
monolith and the auth service (tests/migration/auth_shop.py) at every step of the plan that can
be applied today, 0-monolith and 1-auth. Whatever it sends, no answer may be a 5xx and every
answer must match the schema, whichever layer gave it (a backend, or the proxy's own errors and
rate limits). Generation is deterministic and bounded so the run is reproducible and takes a few
minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.contract.api import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.migration.auth_shop import Shop, extract_auth, flip, running_shop
from tests.support.live import REPO_ROOT, LiveBackend

SCHEMA_PATH = REPO_ROOT / "contract" / "openapi.yaml"
MAX_EXAMPLES = 50
MONOLITH = "monolith"  # the monolith alone, no proxy
STEPS = ("0-monolith", "1-auth")  # the proxy, at each step the plan can apply today

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def fuzz_backend() -> Iterator[LiveBackend]:
    with LiveBackend(name="fuzz", workers=2) as backend:
        yield backend


@pytest.fixture(scope="module")
def fuzz_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield from running_shop(Path(tmp_path_factory.mktemp("fuzz-shop")))


@pytest.fixture(scope="module", params=[MONOLITH, *STEPS])
def base_url(request: pytest.FixtureRequest) -> str:
    """Where the fuzzer sends its requests. pytest runs every operation against one target
    before the next, so the shop takes each step once."""
    if request.param == MONOLITH:
        return request.getfixturevalue("fuzz_backend").base_url
    shop: Shop = request.getfixturevalue("fuzz_shop")
    if request.param == "1-auth":
        extract_auth(shop)
        request.addfinalizer(lambda: flip(shop, "rollback"))
    return shop.public_url


@pytest.fixture(scope="module")
def staff_token(base_url: str) -> str:
    # Staff can reach every operation (customers get 403 on catalog writes), so more code runs.
    response = httpx.post(
        f"{base_url}/api/auth/token",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


# Loaded at import and pointed at the target per call: schemathesis' fixture-based lazy
# loader (schemathesis.pytest.from_fixture) fails on pytest 9 (it sets Item._nodeid).
schema = schemathesis.openapi.from_path(SCHEMA_PATH)
schema.config.update(request_timeout=30)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.parametrize()
@pytest.mark.timeout(180)
def test_no_server_error_and_every_answer_matches_the_schema(case, base_url, staff_token):
    case.call_and_validate(
        base_url=base_url,
        headers={"Authorization": f"Bearer {staff_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
