"""The /internal/sync/ API every backend serves, for backfill, parity and the flip.

Only the proxy's internal listener reaches these paths, and callers must present the internal
token (STRANGLER_INTERNAL_TOKEN, strangler.service.internal_token) in X-Internal-Token: a
missing or wrong one is answered as an unknown path, a 404, so the API is not even revealed.

Requests and answers are the models of payloads.py. A request that does not fit its model is
refused with a 400 naming the fields that are wrong; a view refuses what it cannot do with an
InternalAPIError (an unknown aggregate: 404, not the owner: 409). Any other exception is a
bug, and a 500 that Django logs.
"""

import contextlib
import functools
import logging
from collections.abc import Iterator, Mapping
from typing import TypeVar

from django.db import IntegrityError
from django.db.models import CharField, Max, OuterRef, Subquery
from django.db.models.functions import Cast
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pydantic import BaseModel, ValidationError

from strangler.conf import strangler_settings
from strangler.errors import Conflict, InternalAPIError, InvalidRequest, NotFound
from strangler.service import internal_token
from strangler.service.errors import json_error

from . import checksums, registry
from .consumer import overwrite, store
from .models import AggregateVersion, InboxEvent
from .ownership import current_ownership, record_backfill, set_ownership
from .payloads import (
    AggregateStatus,
    Behind,
    BehindRequest,
    Changed,
    ChangeRequest,
    Checksums,
    ChecksumsQuery,
    EventApplied,
    Fenced,
    FenceRequest,
    Hashes,
    HashesQuery,
    OwnershipChange,
    PageMeta,
    Repaired,
    RepairRequest,
    RowsQuery,
    SequencesMoved,
    SequencesRequest,
    Status,
    StoredRows,
    StoreRows,
    describe,
)
from .relay import outbox_status, watermark
from .sequences import max_id, move_sequence_past
from .states import OwnershipState

Model = TypeVar("Model", bound=BaseModel)

logger = logging.getLogger(__name__)

# The kind of constraint a write broke: PostgreSQL's SQLSTATE (class 23) on the driver's error,
# else the start of SQLite's message ("UNIQUE constraint failed: ...").
CONSTRAINT_KINDS = {
    "23505": "unique",
    "23503": "foreign key",
    "23502": "not null",
    "23514": "check",
}


def internal(methods: list[str]):
    def decorate(view):
        @csrf_exempt
        @require_http_methods(methods)
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            presented = request.headers.get(internal_token.HEADER, "")
            if not internal_token.presented_matches(strangler_settings.INTERNAL_TOKEN, presented):
                return json_error(internal_token.REFUSAL, status=404)
            try:
                return view(request, *args, **kwargs)
            except InternalAPIError as error:
                return json_error(error.detail, status=error.status)

        return wrapper

    return decorate


def _valid(model: type[Model], data: bytes | Mapping) -> Model:
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidRequest(f"Bad request: {describe(error)}") from None


def _body(request: HttpRequest, model: type[Model]) -> Model:
    # Read from the stream: request.body would refuse what exceeds the public API's limit
    # (DATA_UPLOAD_MAX_MEMORY_SIZE); internal bodies have their own (body_size.INTERNAL_LIMIT).
    return _valid(model, request.read() or b"{}")


def _query(request: HttpRequest, model: type[Model]) -> Model:
    return _valid(model, request.GET.dict())


def _answer(answer: BaseModel, **kwargs) -> JsonResponse:
    return JsonResponse(answer.model_dump(mode="json"), **kwargs)


def _domain_aggregates(domain: str) -> list[registry.Aggregate]:
    aggregates = registry.in_domain(domain)
    if not aggregates:
        raise NotFound(f"no synced aggregate in domain {domain!r}")
    return aggregates


@internal(["GET"])
def status(request):
    aggregates = registry.all_aggregates()
    return _answer(
        Status(
            backend=strangler_settings.BACKEND,
            outbox=outbox_status(),
            aggregates={
                a.name: AggregateStatus(
                    domain=a.domain, count=a.model._default_manager.count(), max_id=max_id(a.model)
                )
                for a in aggregates
            },
            ownership={
                domain: current_ownership(domain)
                for domain in sorted({a.domain for a in aggregates})
            },
            last_applied_from={
                source: last.isoformat()
                for source, last in InboxEvent.objects.values("source")
                .annotate(last=Max("applied_at"))
                .values_list("source", "last")
            },
        )
    )


@internal(["GET"])
def event(request, event_id):
    outcome = InboxEvent.objects.filter(event_id=event_id).values_list("outcome", flat=True).first()
    if outcome is None:
        raise NotFound("Event not applied here.")
    return _answer(EventApplied(event_id=str(event_id), outcome=outcome))


def _read_rows(aggregate: registry.Aggregate, query: RowsQuery) -> list[dict]:
    """Rows with their versions, read in one statement: one snapshot, so a row is never paired
    with the version of a later (or earlier) change."""
    version = AggregateVersion.objects.filter(
        aggregate_type=aggregate.name, aggregate_id=Cast(OuterRef("pk"), CharField())
    ).values("version")[:1]
    rows = aggregate.model._default_manager.annotate(sync_version=Subquery(version))
    if query.ids is not None:
        rows = rows.filter(pk__in=query.ids)
    else:
        rows = rows.filter(pk__gt=query.after)
    values = rows.order_by("pk").values_list("pk", "sync_version", *aggregate.attnames)
    return [
        {"id": pk, "version": version or 0, "payload": aggregate.payload_from_values(fields)}
        for pk, version, *fields in values[: query.limit]
    ]


def _constraint_kind(error: IntegrityError) -> str:
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate in CONSTRAINT_KINDS:
        return CONSTRAINT_KINDS[sqlstate]
    message = str(error).upper()
    for kind in CONSTRAINT_KINDS.values():
        if message.startswith(f"{kind.upper()} CONSTRAINT"):
            return kind
    return "integrity"


@contextlib.contextmanager
def _conflicts_refused(aggregate: registry.Aggregate) -> Iterator[None]:
    """A write that breaks a constraint is a 409 naming the aggregate and the constraint's kind
    only: the database's message quotes the conflicting values (an e-mail, say), which belong in
    this backend's log, not in an answer."""
    try:
        yield
    except IntegrityError as exc:
        kind = _constraint_kind(exc)
        logger.warning("%s rows refused, %s constraint: %s", aggregate.name, kind, exc)
        raise Conflict(
            f"{aggregate.name} rows conflict with existing data ({kind} constraint)"
        ) from exc


@internal(["GET", "POST"])
def rows(request, name: str):
    aggregate = registry.by_name(name)
    if request.method == "POST":
        incoming = _body(request, StoreRows).rows
        with _conflicts_refused(aggregate):
            return _answer(StoredRows(upserted=len(store(aggregate, incoming))))
    query = _query(request, RowsQuery)
    found = _read_rows(aggregate, query)
    page = PageMeta(
        count=len(found),
        last_id=found[-1]["id"] if found else query.after,
        next_after=found[-1]["id"] if len(found) == query.limit else None,
    )
    # The rows as read, not through RowsAnswer: a page holds up to MAX_ROWS of them.
    return JsonResponse({"rows": found, "next_after": page.next_after}, headers=page.headers())


@internal(["POST"])
def repair(request, name: str):
    """Makes this copy's rows exactly the owner's: `rows` are written whatever version this
    backend holds (with the owner's version), `delete` ids are removed."""
    aggregate = registry.by_name(name)
    body = _body(request, RepairRequest)
    with _conflicts_refused(aggregate):
        overwrite(aggregate, rows=body.rows, delete=body.delete)
    return _answer(Repaired(rewritten=len(body.rows), deleted=len(body.delete)))


@internal(["GET"])
def aggregate_checksums(request, name: str):
    aggregate = registry.by_name(name)
    chunk = _query(request, ChecksumsQuery).chunk
    return _answer(
        Checksums(
            count=aggregate.model._default_manager.count(),
            chunks=checksums.chunk_checksums(aggregate, chunk=chunk),
        )
    )


@internal(["GET"])
def aggregate_hashes(request, name: str):
    aggregate = registry.by_name(name)
    query = _query(request, HashesQuery)
    hashes = checksums.range_hashes(aggregate, start=query.start, end=query.end)
    return _answer(Hashes(rows={str(pk): digest for pk, digest in hashes.items()}))


@internal(["POST"])
def sequences(request, domain: str):
    """Moves the domain's id sequences past `floor` (ids used elsewhere) plus `gap`."""
    body = _body(request, SequencesRequest)
    moved = {
        a.name: move_sequence_past(a.model, body.floor.get(a.name, 0) + body.gap)
        for a in _domain_aggregates(domain)
    }
    if body.backfilled:
        record_backfill(domain)
    return _answer(SequencesMoved(domain=domain, moved=moved))


@internal(["GET", "PUT"])
def ownership(request, domain: str):
    if request.method == "PUT":
        body = _body(request, OwnershipChange)
        return _answer(set_ownership(domain=domain, owner=body.owner, state=body.state))
    return _answer(current_ownership(domain))


@internal(["POST"])
def fence(request, domain: str):
    """The old owner's side of a handover: writes of `domain` wait from now on (this call waits
    for the ones under way to commit), and the answer is the watermark a new owner must reach:
    the last version of every aggregate of the domain changed since outbox id `after`."""
    body = _body(request, FenceRequest)
    aggregates = _domain_aggregates(domain)
    ownership = set_ownership(domain=domain, owner=body.owner, state=OwnershipState.HANDOVER)
    return _answer(
        Fenced(
            ownership=ownership,
            watermark=watermark(domain=domain, after_id=body.after),
            # With writes fenced these are final: the new owner's ids start above them.
            max_ids={a.name: max_id(a.model) for a in aggregates},
        )
    )


@internal(["POST"])
def behind(request):
    """The new owner's side: which aggregates of a watermark this backend holds in an older
    version (or not at all). Empty when it has caught up."""
    body = _body(request, BehindRequest)
    lagging: dict[str, list[str]] = {}
    for name, versions in body.watermark.items():
        registry.by_name(name)
        held = dict(
            AggregateVersion.objects.filter(
                aggregate_type=name, aggregate_id__in=list(versions)
            ).values_list("aggregate_id", "version")
        )
        missing = [i for i, v in versions.items() if held.get(i, 0) < v]
        if missing:
            lagging[name] = missing
    return _answer(Behind(behind=lagging, count=sum(len(v) for v in lagging.values())))


@internal(["POST"])
def changes(request, name: str):
    """A copy's change of one row, made here by the owner as its own write (saved, so it is
    checked, recorded and sent back to every copy): how a copy's admin edits what it does not
    own. Refused with a 409 (NotOwner) where this backend does not own the domain."""
    aggregate = registry.by_name(name)
    body = _body(request, ChangeRequest)
    if not set(body.fields) <= set(aggregate.fields):
        raise InvalidRequest(f"Bad request: fields must be among {', '.join(aggregate.fields)}")
    instance = aggregate.model._default_manager.filter(pk=body.id).first()
    if instance is None:
        raise NotFound(f"no {name} {body.id}")
    for attname, value in aggregate.values(body.fields, only=tuple(body.fields)).items():
        setattr(instance, attname, value)
    instance.save(update_fields=list(body.fields))
    return _answer(Changed(id=instance.pk, changed=sorted(body.fields)))
