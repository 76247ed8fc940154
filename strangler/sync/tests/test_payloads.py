"""The /internal/sync/ bodies: one definition for both sides, the wire format unchanged."""

import json

import pytest
from pydantic import ValidationError

from strangler.sync.payloads import (
    MAX_ROWS,
    PageMeta,
    RepairRequest,
    RowsPage,
    RowsQuery,
    StoreRows,
    describe,
)
from strangler.sync.states import EventOutcome, OwnershipState


def test_states_and_outcomes_are_their_plain_values_on_the_wire():
    assert json.dumps([OwnershipState.HANDOVER, EventOutcome.STALE]) == '["handover", "stale"]'


def test_a_page_reads_back_from_its_headers_what_they_say_about_it():
    for meta in (
        PageMeta(count=2, last_id=41, next_after=41),
        PageMeta(count=0, last_id=7, next_after=None),
    ):
        assert PageMeta.from_headers(meta.headers()) == meta
    assert PageMeta(count=0, last_id=7, next_after=None).headers()["X-Strangler-Next-After"] == ""


def test_a_page_keeps_its_body_as_the_bytes_that_came():
    body = b'{"rows": [], "next_after": null}'

    page = RowsPage.from_headers(PageMeta(count=0, last_id=0, next_after=None).headers(), body=body)

    assert page.body is body


def test_rows_of_given_ids_are_asked_for_comma_separated_and_read_back_as_ids():
    query = RowsQuery(ids=[3, 5], limit=2)

    assert query.params() == {"limit": 2, "ids": "3,5"}
    assert RowsQuery.model_validate({"ids": "3,5", "limit": "2"}) == query


def test_a_page_of_rows_stays_plain_dicts():
    rows = StoreRows.model_validate_json(b'{"rows": [{"id": 1, "version": 2, "payload": {}}]}')

    assert rows.rows == [{"id": 1, "version": 2, "payload": {}}]


def test_a_repair_of_more_than_a_page_of_rows_and_deletions_is_invalid():
    with pytest.raises(ValidationError) as invalid:
        RepairRequest(rows=[{"id": 1, "version": 1, "payload": {}}], delete=list(range(MAX_ROWS)))

    assert f"at most {MAX_ROWS} rows and deletions per call" in describe(invalid.value)


def test_an_invalid_body_is_described_field_by_field_in_one_line():
    with pytest.raises(ValidationError) as invalid:
        StoreRows.model_validate({"rows": [{"id": "x", "version": 1}]})

    described = describe(invalid.value)
    assert "rows.0.id: " in described
    assert "rows.0.payload: Field required" in described
    assert "\n" not in described
