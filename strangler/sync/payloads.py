"""The bodies of the /internal/sync/ API, one model each, shared by both sides: the views read
requests and write answers with them, the client writes requests and reads answers with them.
Field names and their order are the wire format: other backends and old callers rely on them.

Rows stay plain dicts (`Row` is a TypedDict, checked while the JSON is parsed): a page carries
up to MAX_ROWS of them, and a model instance per row would cost more than the database work.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, NotRequired, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import TypedDict  # pydantic needs its TypedDict before Python 3.12

from .states import EventOutcome, OwnershipState

MAX_ROWS = 10_000
MAX_ID = 2**63 - 1
DEFAULT_CHUNK = 1000

# A page of rows says in headers what its reader needs, so the page itself can pass undecoded.
ROW_COUNT_HEADER = "X-Strangler-Rows"
LAST_ID_HEADER = "X-Strangler-Last-Id"
NEXT_AFTER_HEADER = "X-Strangler-Next-After"

Id = Annotated[int, Field(ge=0, le=MAX_ID)]
# Per aggregate, the version each aggregate id (a string, as in events) must have reached.
Watermark = dict[str, dict[str, int]]


def describe(error: ValidationError) -> str:
    """Every field that is wrong and why, in one line: `rows.3.version: Input should be ...`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}"
        for problem in error.errors(include_url=False)
    )


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


class Row(TypedDict):
    id: int
    version: int
    payload: dict[str, Any]
    deleted: NotRequired[bool]


Rows = Annotated[list[Row], Field(max_length=MAX_ROWS)]


class Query(Payload):
    """The parameters of a GET."""

    def params(self) -> dict[str, Any]:
        """As a query string: only what the caller gave."""
        return self.model_dump(exclude_unset=True)


class RowsQuery(Query):
    """Rows after `after` in id order, or the rows of `ids` (comma separated in the query)."""

    after: Id = 0
    limit: int = Field(1000, ge=0, le=MAX_ROWS)
    ids: list[int] | None = Field(None, max_length=MAX_ROWS)

    @model_validator(mode="before")
    @classmethod
    def _split_ids(cls, query: Any) -> Any:
        if isinstance(query, Mapping) and isinstance(query.get("ids"), str):
            return {**query, "ids": [part for part in query["ids"].split(",") if part]}
        return query

    def params(self) -> dict[str, Any]:
        given = super().params()
        if self.ids is not None:
            given["ids"] = ",".join(map(str, self.ids))
        return given


class PageMeta(Payload):
    """What a page of rows says about itself, in headers: how many, the last id, where the next
    page starts (None: this was the last)."""

    count: int = Field(ge=0)
    last_id: Id
    next_after: Id | None

    def headers(self) -> dict[str, str]:
        return {
            ROW_COUNT_HEADER: str(self.count),
            LAST_ID_HEADER: str(self.last_id),
            NEXT_AFTER_HEADER: "" if self.next_after is None else str(self.next_after),
        }

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], **fields: object) -> Self:
        return cls.model_validate(
            {
                "count": headers.get(ROW_COUNT_HEADER),
                "last_id": headers.get(LAST_ID_HEADER),
                "next_after": headers.get(NEXT_AFTER_HEADER) or None,
                **fields,
            }
        )


class RowsPage(PageMeta):
    # {"rows": [...], "next_after": ...} as the source sent it, also what the rows endpoint
    # takes: a backfill hands it on without decoding and encoding every row in between.
    body: bytes


class RowsAnswer(Payload):
    rows: list[Row]
    next_after: int | None


class StoreRows(Payload):
    rows: Rows


class StoredRows(Payload):
    upserted: int


class RepairRequest(Payload):
    """The owner's `rows`, written whatever version the copy holds, and ids to `delete`."""

    rows: Rows = []
    delete: list[int] = Field([], max_length=MAX_ROWS)

    @model_validator(mode="after")
    def _at_most_max_rows(self) -> "RepairRequest":
        if len(self.rows) + len(self.delete) > MAX_ROWS:
            raise ValueError(f"at most {MAX_ROWS} rows and deletions per call")
        return self


class Repaired(Payload):
    rewritten: int
    deleted: int


class ChangeRequest(Payload):
    """A copy's change of one row: `fields` in payload form."""

    id: int
    fields: dict[str, Any] = Field(min_length=1)


class Changed(Payload):
    id: int
    changed: list[str]


class ChecksumsQuery(Query):
    chunk: int = Field(DEFAULT_CHUNK, ge=1, le=1_000_000)


class Chunk(Payload):
    start: int
    end: int
    count: int
    checksum: str


class Checksums(Payload):
    count: int
    chunks: list[Chunk]


class HashesQuery(Query):
    start: Id = 0
    end: Id = MAX_ID


class Hashes(Payload):
    rows: dict[str, str]  # by id


class SequencesRequest(Payload):
    """Move the domain's id sequences past `floor` (per aggregate, ids used elsewhere) + `gap`."""

    floor: dict[str, int] = {}
    gap: int = Field(0, ge=0)
    # Sent by a backfill's last call: the copy records that it was backfilled.
    backfilled: bool = False


class SequencesMoved(Payload):
    domain: str
    moved: dict[str, int]


class Ownership(Payload):
    domain: str
    owner: str
    state: OwnershipState
    backfilled_at: datetime | None = None


class OwnershipChange(Payload):
    owner: str
    state: OwnershipState


class FenceRequest(Payload):
    owner: str
    after: Id = 0  # the outbox position the watermark starts after


class Fenced(Payload):
    ownership: Ownership
    watermark: Watermark
    max_ids: dict[str, int]


class BehindRequest(Payload):
    watermark: Watermark


class Behind(Payload):
    behind: dict[str, list[str]]
    count: int


class OutboxStatus(Payload):
    pending: int
    oldest_pending_age_seconds: float | None
    last_id: int


class AggregateStatus(Payload):
    domain: str
    count: int
    max_id: int


class Status(Payload):
    backend: str
    outbox: OutboxStatus
    aggregates: dict[str, AggregateStatus]
    ownership: dict[str, Ownership]
    last_applied_from: dict[str, str]  # per source backend, when its last event was applied

    def in_domain(self, domain: str) -> dict[str, AggregateStatus]:
        return {name: a for name, a in self.aggregates.items() if a.domain == domain}


class EventApplied(Payload):
    event_id: str
    outcome: EventOutcome
