"""The client of the /internal/sync/ API: typed answers, and refusals that carry their status."""

import pytest

from strangler.conf import strangler_settings
from strangler.sync.client import BackendRefused, BackendSync, SyncError
from strangler.sync.states import OwnershipState


@pytest.fixture
def auth(fake_auth_backend):
    """The client of a fake auth backend that answers every call with (status, body)."""

    def start(status: int, body: object) -> BackendSync:
        fake_auth_backend(lambda method, path, headers, sent: (status, body))
        return BackendSync("auth", strangler_settings.BACKEND_URLS["auth"], timeout=5.0)

    return start


def test_an_answer_is_read_into_its_model(auth):
    backend = auth(200, {"domain": "auth", "owner": "auth", "state": "handover"})

    ownership = backend.ownership("auth")

    assert (ownership.owner, ownership.state) == ("auth", OwnershipState.HANDOVER)


def test_a_refusal_carries_the_status_and_the_detail_the_backend_answered(auth):
    backend = auth(409, {"detail": "monolith does not own the writes of auth"})

    with pytest.raises(BackendRefused) as refused:
        backend.change("user", pk=7, fields={"name": "Ann"})

    assert refused.value.status == 409
    assert refused.value.detail == "monolith does not own the writes of auth"
    assert str(refused.value) == (
        "auth: POST /internal/sync/aggregates/user/changes: 409 "
        "monolith does not own the writes of auth"
    )
    assert isinstance(refused.value, SyncError)


def test_an_answer_that_does_not_fit_its_model_is_a_sync_error_naming_the_field(auth):
    backend = auth(200, {"domain": "auth", "owner": "auth", "state": "pending"})

    with pytest.raises(SyncError, match="unexpected answer: state: "):
        backend.ownership("auth")


def test_a_page_without_its_headers_is_a_sync_error(auth):
    backend = auth(200, {"rows": [], "next_after": None})

    with pytest.raises(SyncError, match="a page of user without its headers"):
        backend.page("user", after=0, limit=10)


def test_an_unreachable_backend_is_a_sync_error_that_is_no_refusal():
    backend = BackendSync("auth", "http://127.0.0.1:9", timeout=1.0)

    with pytest.raises(SyncError, match="is unreachable") as failed:
        backend.status()

    assert not isinstance(failed.value, BackendRefused)
