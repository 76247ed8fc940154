"""The internal sync API of a real backend (gunicorn on loopback) answers only callers that
present the internal token: without it nothing is read, nothing is written, and nothing fails
with a 500, whatever the caller sends in X-Internal-Token."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from strangler.service.internal_token import HEADER, development_token_file
from strangler.sync.client import BackendRefused, BackendSync
from tests.support.live import LiveBackend

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TOKEN = secrets.token_urlsafe(32)
# Reads that hand out every row (password hashes included) and writes that create users or move
# a domain's ownership: each must be refused alike.
CALLS = [
    ("GET", "/internal/sync/status", None),
    ("GET", "/internal/sync/aggregates/user/rows?after=0&limit=10", None),
    (
        "POST",
        "/internal/sync/aggregates/user/rows",
        {"rows": [{"id": 9000, "version": 1, "payload": {"email": "x@example.com"}}]},
    ),
    ("PUT", "/internal/sync/domains/auth/ownership", {"owner": "auth", "state": "active"}),
]
WRONG_CREDENTIALS = {
    "no token": {},
    "an empty token": {HEADER: b""},
    "a wrong token": {HEADER: secrets.token_urlsafe(32).encode()},
    "the token with one character changed": {HEADER: (TOKEN[:-1] + "?").encode()},
    "a non-ASCII token in UTF-8": {HEADER: "jeton-privé-€".encode()},
    "a non-ASCII token in Latin-1": {HEADER: "jeton-privé".encode("latin-1")},
}


@pytest.fixture(scope="module")
def backend() -> Iterator[LiveBackend]:
    with LiveBackend(
        name="security", products=1, workers=1, env={"STRANGLER_INTERNAL_TOKEN": TOKEN}
    ) as live:
        yield live


@pytest.fixture
def http(backend: LiveBackend) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.base_url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("credentials", WRONG_CREDENTIALS.values(), ids=WRONG_CREDENTIALS.keys())
@pytest.mark.parametrize("method,path,body", CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS])
def test_a_caller_without_the_token_gets_a_404_as_for_an_unknown_path(
    http: httpx.Client, method: str, path: str, body: dict | None, credentials: dict
):
    refused = http.request(method, path, json=body, headers=credentials)

    assert refused.status_code == 404, refused.text
    assert refused.json() == {"detail": "Not found."}


def test_a_refused_caller_neither_wrote_rows_nor_moved_the_ownership(http: httpx.Client):
    for method, path, body in CALLS:
        http.request(method, path, json=body, headers={HEADER: b"wrong"})

    allowed = {HEADER: TOKEN}
    ownership = http.get("/internal/sync/domains/auth/ownership", headers=allowed).json()
    rows = http.get("/internal/sync/aggregates/user/rows?ids=9000", headers=allowed).json()
    assert (ownership["owner"], ownership["state"]) == ("monolith", "active")
    assert rows["rows"] == []


def test_a_caller_presenting_the_token_is_answered(http: httpx.Client):
    answered = http.get("/internal/sync/status", headers={HEADER: TOKEN})

    assert answered.status_code == 200, answered.text
    assert answered.json()["backend"] == "monolith"


def test_the_sync_client_sends_the_token_of_its_settings(backend: LiveBackend, settings):
    settings.STRANGLER_INTERNAL_TOKEN = TOKEN

    assert BackendSync("monolith", backend.base_url).status().backend == "monolith"


def test_the_sync_client_names_a_token_mismatch_as_a_possible_cause_of_a_404(
    backend: LiveBackend, settings
):
    settings.STRANGLER_INTERNAL_TOKEN = secrets.token_urlsafe(32)

    with pytest.raises(BackendRefused) as refused:
        BackendSync("monolith", backend.base_url).status()
    assert refused.value.status == 404
    assert "STRANGLER_INTERNAL_TOKEN" in str(refused.value)


def test_a_development_backend_given_no_token_generates_one_and_still_refuses_callers_without(
    tmp_path,
):
    var_dir = tmp_path / "var"
    unset = {"SHOP_VAR_DIR": str(var_dir), "STRANGLER_INTERNAL_TOKEN": ""}
    with (
        LiveBackend(name="security_dev", products=1, workers=1, env=unset) as live,
        httpx.Client(base_url=live.base_url, timeout=10) as client,
    ):
        generated = development_token_file(var_dir).read_text()
        refused = client.get("/internal/sync/aggregates/user/rows")
        answered = client.get("/internal/sync/aggregates/user/rows", headers={HEADER: generated})

    assert refused.status_code == 404
    assert answered.status_code == 200, answered.text


@pytest.mark.django_db
def test_a_backend_whose_settings_hold_no_token_refuses_every_caller(client, settings):
    settings.STRANGLER_INTERNAL_TOKEN = ""

    refused = client.get("/internal/sync/status", headers={HEADER: ""})

    assert refused.status_code == 404
