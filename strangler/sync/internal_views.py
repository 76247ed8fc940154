"""The /internal/sync/ API every backend serves, for backfill, parity and the flip.

Only the proxy's internal listener reaches these paths; when STRANGLER_INTERNAL_TOKEN is set,
callers must also present it in X-Internal-Token.
"""

import functools
import hmac
import json

from django.db import IntegrityError
from django.db.models import CharField, Max, OuterRef, Subquery
from django.db.models.functions import Cast
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from strangler.conf import strangler_settings

from . import checksums, registry
from .client import LAST_ID_HEADER, NEXT_AFTER_HEADER, ROW_COUNT_HEADER
from .consumer import overwrite, store
from .models import AggregateVersion, InboxEvent
from .ownership import NotOwner, current_ownership, set_ownership
from .relay import outbox_status, watermark
from .sequences import max_id, move_sequence_past

MAX_ROWS = 10_000


def _error(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def internal(methods: list[str]):
    def decorate(view):
        @csrf_exempt
        @require_http_methods(methods)
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            expected = strangler_settings.INTERNAL_TOKEN
            presented = request.headers.get("X-Internal-Token", "")
            if expected and not hmac.compare_digest(expected, presented):
                return _error("Not found.", 404)
            try:
                return view(request, *args, **kwargs)
            except LookupError as exc:
                return _error(str(exc.args[0] if exc.args else exc), 404)
            except (ValueError, KeyError, TypeError) as exc:
                return _error(f"Bad request: {exc}", 400)

        return wrapper

    return decorate


def _json_body(request: HttpRequest) -> dict:
    # Read from the stream: request.body would refuse what exceeds the public API's limit
    # (DATA_UPLOAD_MAX_MEMORY_SIZE); internal bodies have their own (body_size.INTERNAL_LIMIT).
    body = json.loads(request.read() or b"{}")
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _int_param(request: HttpRequest, name: str, default: int, *, high: int = 2**63 - 1) -> int:
    value = int(request.GET.get(name, default))
    if not 0 <= value <= high:
        raise ValueError(f"{name} out of range")
    return value


@internal(["GET"])
def status(request):
    outbox = outbox_status()
    return JsonResponse(
        {
            "backend": strangler_settings.BACKEND,
            "outbox": {
                "pending": outbox.pending,
                "oldest_pending_age_seconds": outbox.oldest_pending_age_seconds,
                "last_id": outbox.last_id,
            },
            "aggregates": {
                a.name: {
                    "domain": a.domain,
                    "count": a.model._default_manager.count(),
                    "max_id": max_id(a.model),
                }
                for a in registry.all_aggregates()
            },
            "ownership": {
                domain: vars(current_ownership(domain))
                for domain in sorted({a.domain for a in registry.all_aggregates()})
            },
            "last_applied_from": {
                source: last.isoformat()
                for source, last in InboxEvent.objects.values("source")
                .annotate(last=Max("applied_at"))
                .values_list("source", "last")
            },
        }
    )


@internal(["GET"])
def event(request, event_id):
    outcome = InboxEvent.objects.filter(event_id=event_id).values_list("outcome", flat=True).first()
    if outcome is None:
        return _error("Event not applied here.", 404)
    return JsonResponse({"event_id": str(event_id), "outcome": outcome})


def _ids_param(request: HttpRequest) -> list[int] | None:
    if "ids" not in request.GET:
        return None
    ids = [int(part) for part in request.GET["ids"].split(",") if part]
    if len(ids) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} ids per call")
    return ids


def _read_rows(aggregate: registry.Aggregate, *, after: int, limit: int, ids) -> list[dict]:
    """Rows with their versions, read in one statement: one snapshot, so a row is never paired
    with the version of a later (or earlier) change."""
    version = AggregateVersion.objects.filter(
        aggregate_type=aggregate.name, aggregate_id=Cast(OuterRef("pk"), CharField())
    ).values("version")[:1]
    rows = aggregate.model._default_manager.annotate(sync_version=Subquery(version))
    rows = rows.filter(pk__in=ids) if ids is not None else rows.filter(pk__gt=after)
    values = rows.order_by("pk").values_list("pk", "sync_version", *aggregate.attnames)[:limit]
    return [
        {"id": pk, "version": version or 0, "payload": aggregate.payload_from_values(fields)}
        for pk, version, *fields in values
    ]


@internal(["GET", "POST"])
def rows(request, name: str):
    aggregate = registry.by_name(name)
    if request.method == "GET":
        limit = _int_param(request, "limit", 1000, high=MAX_ROWS)
        after = _int_param(request, "after", 0)
        found = _read_rows(aggregate, after=after, limit=limit, ids=_ids_param(request))
        next_after = found[-1]["id"] if len(found) == limit else None
        return JsonResponse(
            {"rows": found, "next_after": next_after},
            headers={
                ROW_COUNT_HEADER: str(len(found)),
                LAST_ID_HEADER: str(found[-1]["id"] if found else after),
                NEXT_AFTER_HEADER: "" if next_after is None else str(next_after),
            },
        )
    incoming = _json_body(request)["rows"]
    if len(incoming) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per call")
    try:
        upserted = len(store(aggregate, incoming))
    except IntegrityError as exc:
        return _error(f"Rows conflict with existing data: {exc}", 409)
    return JsonResponse({"upserted": upserted})


@internal(["POST"])
def repair(request, name: str):
    """Makes this copy's rows exactly the owner's: `rows` are written whatever version this
    backend holds (with the owner's version), `delete` ids are removed."""
    aggregate = registry.by_name(name)
    body = _json_body(request)
    incoming, delete = body.get("rows", []), [int(i) for i in body.get("delete", [])]
    if len(incoming) + len(delete) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per call")
    try:
        overwrite(aggregate, rows=incoming, delete=delete)
    except IntegrityError as exc:
        return _error(f"Rows conflict with existing data: {exc}", 409)
    return JsonResponse({"rewritten": len(incoming), "deleted": len(delete)})


@internal(["GET"])
def aggregate_checksums(request, name: str):
    aggregate = registry.by_name(name)
    chunk = _int_param(request, "chunk", checksums.DEFAULT_CHUNK, high=1_000_000) or 1
    return JsonResponse(
        {
            "count": aggregate.model._default_manager.count(),
            "chunks": checksums.chunk_checksums(aggregate, chunk=chunk),
        }
    )


@internal(["GET"])
def aggregate_hashes(request, name: str):
    aggregate = registry.by_name(name)
    start = _int_param(request, "start", 0)
    end = _int_param(request, "end", 2**63 - 1)
    hashes = checksums.range_hashes(aggregate, start=start, end=end)
    return JsonResponse({"rows": {str(pk): digest for pk, digest in hashes.items()}})


@internal(["POST"])
def sequences(request, domain: str):
    """Moves the domain's id sequences past `floor` (ids used elsewhere) plus `gap`."""
    body = _json_body(request)
    gap = int(body.get("gap", 0))
    floors = body.get("floor", {})
    moved = {}
    for aggregate in registry.in_domain(domain):
        floor = int(floors.get(aggregate.name, 0)) + gap
        moved[aggregate.name] = move_sequence_past(aggregate.model, floor)
    if not moved:
        raise LookupError(f"no synced aggregate in domain {domain!r}")
    return JsonResponse({"domain": domain, "moved": moved})


@internal(["GET", "PUT"])
def ownership(request, domain: str):
    if request.method == "PUT":
        body = _json_body(request)
        return JsonResponse(
            vars(set_ownership(domain=domain, owner=str(body["owner"]), state=str(body["state"])))
        )
    return JsonResponse(vars(current_ownership(domain)))


@internal(["POST"])
def fence(request, domain: str):
    """The old owner's side of a handover: writes of `domain` wait from now on (this call waits
    for the ones under way to commit), and the answer is the watermark a new owner must reach:
    the last version of every aggregate of the domain changed since outbox id `after`."""
    body = _json_body(request)
    after = int(body.get("after", 0))
    if not registry.in_domain(domain):
        raise LookupError(f"no synced aggregate in domain {domain!r}")
    ownership = set_ownership(domain=domain, owner=str(body["owner"]), state="handover")
    return JsonResponse(
        {
            "ownership": vars(ownership),
            "watermark": watermark(domain=domain, after_id=after),
            # With writes fenced these are final: the new owner's ids start above them.
            "max_ids": {a.name: max_id(a.model) for a in registry.in_domain(domain)},
        }
    )


@internal(["POST"])
def behind(request):
    """The new owner's side: which aggregates of a watermark this backend holds in an older
    version (or not at all). Empty when it has caught up."""
    body = _json_body(request)
    lagging: dict[str, list[str]] = {}
    for name, versions in body["watermark"].items():
        registry.by_name(name)
        held = dict(
            AggregateVersion.objects.filter(
                aggregate_type=name, aggregate_id__in=list(versions)
            ).values_list("aggregate_id", "version")
        )
        missing = [i for i, v in versions.items() if held.get(i, 0) < int(v)]
        if missing:
            lagging[name] = missing
    return JsonResponse({"behind": lagging, "count": sum(len(v) for v in lagging.values())})


@internal(["POST"])
def changes(request, name: str):
    """A copy's change of one row, made here by the owner as its own write (saved, so it is
    checked, recorded and sent back to every copy): how a copy's admin edits what it does not
    own."""
    aggregate = registry.by_name(name)
    body = _json_body(request)
    fields = body["fields"]
    unknown = set(fields) - set(aggregate.fields)
    if unknown or not fields:
        raise ValueError(f"fields must be among {', '.join(aggregate.fields)}")
    instance = aggregate.model._default_manager.filter(pk=body["id"]).first()
    if instance is None:
        raise LookupError(f"no {name} {body['id']}")
    for attname, value in aggregate.values(fields, only=tuple(fields)).items():
        setattr(instance, attname, value)
    try:
        instance.save(update_fields=list(fields))
    except NotOwner as exc:
        return _error(str(exc), 409)
    return JsonResponse({"id": instance.pk, "changed": sorted(fields)})
