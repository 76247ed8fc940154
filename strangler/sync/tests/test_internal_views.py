"""The /internal/sync/ API as the CLI and the flip call it, served by the monolith."""

import pytest
from django.db import connection

from accounts import services as accounts
from accounts.models import User
from strangler.sync.models import AggregateVersion, OutboxEvent
from strangler.sync.ownership import current_ownership, set_ownership
from strangler.sync.states import OwnershipState

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "email": "copied@example.com",
    "name": "Copied",
    "password": "md5$$hash",
    "is_staff": False,
    "is_superuser": False,
    "is_active": True,
    "date_joined": "2026-01-02T03:04:05Z",
}


def _register(email: str) -> User:
    return accounts.register_user(email=email, password="long-enough", name="Reg")


def _post_rows(api, rows: list[dict]):
    return api.post("/internal/sync/aggregates/user/rows", {"rows": rows}, format="json")


def _version(pk: int) -> int:
    return AggregateVersion.objects.get(aggregate_type="user", aggregate_id=str(pk)).version


def test_rows_come_with_the_version_this_backend_holds(api):
    ann = _register("ann@example.com")
    bob = _register("bob@example.com")
    ann.name = "Ann, renamed"
    ann.save()

    body = api.get("/internal/sync/aggregates/user/rows", {"after": 0, "limit": 10}).json()

    assert [(r["id"], r["version"]) for r in body["rows"]] == [(ann.pk, 2), (bob.pk, 1)]
    assert body["rows"][0]["payload"]["name"] == "Ann, renamed"
    assert body["next_after"] is None


def test_rows_are_paged_by_id(api):
    first, second = _register("a@example.com"), _register("b@example.com")

    page = api.get("/internal/sync/aggregates/user/rows", {"after": 0, "limit": 1}).json()
    assert [r["id"] for r in page["rows"]] == [first.pk]
    assert page["next_after"] == first.pk
    page = api.get("/internal/sync/aggregates/user/rows", {"after": first.pk, "limit": 1}).json()
    assert [r["id"] for r in page["rows"]] == [second.pk]


def test_copied_rows_keep_their_versions_and_a_lower_version_never_replaces_a_higher(api):
    copied = _post_rows(api, [{"id": 900, "version": 4, "payload": PAYLOAD}])
    older = _post_rows(api, [{"id": 900, "version": 3, "payload": {**PAYLOAD, "name": "Old"}}])
    same = _post_rows(api, [{"id": 900, "version": 4, "payload": {**PAYLOAD, "name": "Same"}}])

    assert [r.json()["upserted"] for r in (copied, older, same)] == [1, 0, 0]
    assert User.objects.get(pk=900).name == "Copied"
    assert _version(900) == 4
    row = api.get("/internal/sync/aggregates/user/rows", {"after": 899, "limit": 1}).json()
    assert row["rows"] == [{"id": 900, "version": 4, "payload": PAYLOAD}]
    assert not OutboxEvent.objects.exists()


def test_a_backfilled_row_older_than_the_live_sync_is_skipped(api):
    _post_rows(api, [{"id": 901, "version": 7, "payload": {**PAYLOAD, "name": "Live"}}])

    response = _post_rows(
        api,
        [
            {"id": 901, "version": 5, "payload": {**PAYLOAD, "name": "Backfill"}},
            {"id": 902, "version": 1, "payload": {**PAYLOAD, "email": "other@example.com"}},
        ],
    )

    assert response.json() == {"upserted": 1}
    assert User.objects.get(pk=901).name == "Live"
    assert (_version(901), _version(902)) == (7, 1)


def test_the_fence_puts_the_domain_in_handover_and_answers_the_watermark(api):
    before = _register("before@example.com")
    position = OutboxEvent.objects.latest("id").id
    after = _register("after@example.com")
    after.save()

    response = api.post(
        "/internal/sync/domains/auth/fence", {"owner": "monolith", "after": position}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["watermark"] == {"user": {str(after.pk): 2}, "refresh_token": {}}
    assert str(before.pk) not in response.json()["watermark"]["user"]
    assert current_ownership("auth").state == "handover"


def test_the_fence_of_a_domain_without_synced_aggregates_is_404(api):
    response = api.post("/internal/sync/domains/reviews/fence", {"owner": "x"}, format="json")

    assert response.status_code == 404
    assert current_ownership("reviews").state == "active"


def test_behind_names_the_aggregates_held_in_an_older_version_or_not_at_all(api):
    _post_rows(api, [{"id": 903, "version": 2, "payload": PAYLOAD}])
    watermark = {"user": {"903": 2, "904": 1}, "refresh_token": {}}

    lagging = api.post("/internal/sync/behind", {"watermark": watermark}, format="json").json()
    assert lagging == {"behind": {"user": ["904"]}, "count": 1}

    watermark["user"] = {"903": 3}
    lagging = api.post("/internal/sync/behind", {"watermark": watermark}, format="json").json()
    assert lagging == {"behind": {"user": ["903"]}, "count": 1}

    watermark["user"] = {"903": 1}
    lagging = api.post("/internal/sync/behind", {"watermark": watermark}, format="json").json()
    assert lagging == {"behind": {}, "count": 0}


def test_a_change_sent_by_a_copy_is_saved_and_recorded_here_as_the_owners_write(api):
    user = _register("ann@example.com")

    response = api.post(
        "/internal/sync/aggregates/user/changes",
        {"id": user.pk, "fields": {"name": "Changed in a copy's admin"}},
        format="json",
    )

    assert response.json() == {"id": user.pk, "changed": ["name"]}
    assert User.objects.get(pk=user.pk).name == "Changed in a copy's admin"
    event = OutboxEvent.objects.latest("id")
    assert (event.version, event.payload["name"]) == (2, "Changed in a copy's admin")


def test_a_change_of_a_field_that_is_not_synced_is_refused(api):
    user = _register("ann@example.com")

    response = api.post(
        "/internal/sync/aggregates/user/changes",
        {"id": user.pk, "fields": {"last_login": None}},
        format="json",
    )

    assert response.status_code == 400


def test_a_change_sent_to_a_backend_that_is_not_the_owner_is_409(api):
    user = _register("ann@example.com")
    set_ownership(domain="auth", owner="auth", state="active")

    response = api.post(
        "/internal/sync/aggregates/user/changes",
        {"id": user.pk, "fields": {"name": "Nope"}},
        format="json",
    )

    assert response.status_code == 409
    assert "read-only" in response.json()["detail"]
    assert User.objects.get(pk=user.pk).name == "Reg"


@pytest.mark.parametrize("endpoint", ["rows", "repair"])
def test_a_row_breaking_a_constraint_is_a_409_that_keeps_the_conflicting_email_in_the_log(
    api, caplog, endpoint
):
    taken = _register("taken@example.com")
    duplicate = {"id": taken.pk + 100, "version": 1, "payload": {**PAYLOAD, "email": taken.email}}

    with caplog.at_level("WARNING", logger="strangler.sync.internal_views"):
        response = api.post(
            f"/internal/sync/aggregates/user/{endpoint}", {"rows": [duplicate]}, format="json"
        )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "user rows conflict with existing data (unique constraint)"
    )
    assert taken.email not in response.content.decode()
    # The database's own message is logged: PostgreSQL's names the value, SQLite's the index.
    logged = taken.email if connection.vendor == "postgresql" else "accounts_user_email_ci_unique"
    assert logged in caplog.text


def test_the_status_names_the_outbox_position(api):
    _register("ann@example.com")

    outbox = api.get("/internal/sync/status").json()["outbox"]

    assert outbox["pending"] == 1
    assert outbox["last_id"] == OutboxEvent.objects.latest("id").id


def test_a_page_says_in_headers_how_many_rows_it_holds_and_where_the_next_starts(api):
    first, _ = _register("a@example.com"), _register("b@example.com")

    response = api.get("/internal/sync/aggregates/user/rows", {"after": 0, "limit": 1})

    assert response["X-Strangler-Rows"] == "1"
    assert response["X-Strangler-Last-Id"] == response["X-Strangler-Next-After"] == str(first.pk)


def test_a_malformed_store_request_is_refused_with_the_field_that_is_wrong(api):
    response = _post_rows(
        api,
        [
            {"id": 905, "version": 1, "payload": PAYLOAD},
            {"id": 906, "version": "newest", "payload": PAYLOAD},
        ],
    )

    assert response.status_code == 400
    assert "rows.1.version" in response.json()["detail"]
    assert not User.objects.filter(pk=905).exists()


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.post("/internal/sync/behind", b"{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Bad request: ")


def test_a_query_out_of_range_is_refused_naming_the_parameter(api):
    response = api.get("/internal/sync/aggregates/user/rows", {"limit": 10_001})

    assert response.status_code == 400
    assert "limit" in response.json()["detail"]


def test_an_unknown_ownership_state_is_refused_and_changes_nothing(api):
    response = api.put(
        "/internal/sync/domains/auth/ownership",
        {"owner": "auth", "state": "pending"},
        format="json",
    )

    assert response.status_code == 400
    assert "state" in response.json()["detail"]
    assert current_ownership("auth").owner == "monolith"


def test_an_ownership_change_answers_the_ownership_recorded(api):
    response = api.put(
        "/internal/sync/domains/auth/ownership",
        {"owner": "auth", "state": "handover"},
        format="json",
    )

    assert response.json() == {
        "domain": "auth",
        "owner": "auth",
        "state": "handover",
        "backfilled_at": None,
    }
    assert current_ownership("auth").state == OwnershipState.HANDOVER


def test_a_backfills_last_call_records_it_on_the_copy(api):
    assert current_ownership("auth").backfilled_at is None

    response = api.post(
        "/internal/sync/domains/auth/sequences", {"backfilled": True}, format="json"
    )

    assert response.status_code == 200
    assert current_ownership("auth").backfilled_at is not None


def test_an_aggregate_this_backend_does_not_sync_is_a_404(api):
    response = api.get("/internal/sync/aggregates/invoice/rows")

    assert response.status_code == 404
    assert response.json() == {"detail": "no synced aggregate named 'invoice' on this backend"}


def test_a_bug_in_a_view_is_a_500_not_a_400(api, monkeypatch):
    def broken(**kwargs):
        return {}["a key the code wrongly expects"]

    monkeypatch.setattr("strangler.sync.internal_views.watermark", broken)
    api.raise_request_exception = False

    response = api.post("/internal/sync/domains/auth/fence", {"owner": "monolith"}, format="json")

    assert response.status_code == 500


def test_the_status_counts_the_compensations_not_yet_run(api):
    from django.utils import timezone

    from strangler.sync.models import Compensation

    Compensation.objects.create(key="checkout-1", action="x", due_at=timezone.now(), attempts=1)

    answer = api.get("/internal/sync/status").json()

    assert answer["compensations"]["pending"] == 1
    assert answer["compensations"]["failing"] == 1
    assert answer["compensations"]["oldest_seconds"] >= 0
