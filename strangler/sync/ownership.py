"""Which backend owns a domain's writes, and the handover between two owners.

Every write of a synced domain calls `require_ownership` first, inside its transaction. On
PostgreSQL that takes a shared lock on the domain's ownership row, so a handover (which takes
the row for update) waits for writes already under way and no write slips past it; on SQLite
the write transactions are serialised anyway.

A write that reaches a backend that does not own its domain is not refused: `owned_write`
waits while a handover is in progress, then forwards the request to the owner. So requests in
flight during a flip neither fail nor fork the data.

One deadline bounds a write, however often it is forwarded: it starts when the first backend
sees the request (STRANGLER_HANDOVER_WAIT_SECONDS), travels in the X-Strangler-Deadline header,
and a backend never starts the write after it. The forwarding call waits for the deadline plus
the time a write takes once started, so no forwarded write commits after its client was told
it failed.
"""

import functools
import time
import weakref

import httpx
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from strangler.conf import strangler_settings
from strangler.errors import Conflict
from strangler.service.errors import json_error
from strangler.service.http import service_client

from .models import DomainOwnership
from .payloads import Ownership
from .states import OwnershipState

# What the current transaction of each connection (one per thread) checked: its marker
# atomic block and the domains whose ownership row it holds locked.
_checked: weakref.WeakKeyDictionary[BaseDatabaseWrapper, tuple[object, set[str]]] = (
    weakref.WeakKeyDictionary()
)

FORWARDED_BY_HEADER = "X-Strangler-Forwarded-By"
DEADLINE_HEADER = "X-Strangler-Deadline"
# Once started, a write commits well within this; the forwarder waits this long past the deadline.
WRITE_SECONDS = 15.0
_FORWARDED_REQUEST_HEADERS = (
    "Content-Type",
    "Accept",
    "Authorization",
    "X-Request-ID",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Real-IP",
)
_FORWARDED_RESPONSE_HEADERS = ("WWW-Authenticate", "Retry-After")


def this_backend() -> str:
    return strangler_settings.BACKEND


class NotOwner(Conflict):
    """A write reached a backend that does not own its domain: `owned_write` forwards it, the
    /internal/sync/ API refuses it with a 409."""

    def __init__(self, ownership: Ownership) -> None:
        super().__init__(
            f"{this_backend()} does not own the writes of {ownership.domain} "
            f"({ownership.owner} does, {ownership.state}): its copy here is read-only"
        )
        self.ownership = ownership


def _ensure_row(domain: str) -> None:
    if not DomainOwnership.objects.filter(domain=domain).exists():
        try:
            with transaction.atomic():
                DomainOwnership.objects.create(
                    domain=domain, owner=strangler_settings.initial_owner(domain)
                )
        except IntegrityError:
            pass  # created concurrently: the same default


def current_ownership(domain: str) -> Ownership:
    _ensure_row(domain)
    row = DomainOwnership.objects.get(domain=domain)
    return Ownership(
        domain=domain, owner=row.owner, state=row.state, backfilled_at=row.backfilled_at
    )


def record_backfill(domain: str) -> None:
    _ensure_row(domain)
    DomainOwnership.objects.filter(domain=domain).update(backfilled_at=timezone.now())


def check_ownership(domain: str) -> None:
    """A cheap look before expensive work (a password hash): raises NotOwner where
    `require_ownership` would. Only `require_ownership`, inside the write, is authoritative."""
    ownership = current_ownership(domain)
    if ownership.owner != this_backend() or ownership.state != OwnershipState.ACTIVE:
        raise NotOwner(ownership)


def require_ownership(domain: str) -> None:
    """Inside a write transaction: raises NotOwner unless this backend owns `domain` now.

    The check's lock lasts until the transaction ends, so within one transaction the domain is
    checked once: the saves a write makes (a token used, a token issued) do not check again.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("require_ownership must run inside the write's transaction")
    current = connections[DEFAULT_DB_ALIAS]
    checked = _checked.get(current)
    if checked is not None and _open(current, checked[0]) and domain in checked[1]:
        return
    _ensure_row(domain)
    table = DomainOwnership._meta.db_table
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT owner, state FROM {table} WHERE domain = %s{lock}", [domain])
        owner, state = cursor.fetchone()
    if owner != this_backend() or state != OwnershipState.ACTIVE:
        raise NotOwner(Ownership(domain=domain, owner=owner, state=state))
    if len(connection.atomic_blocks) == 1:
        # Taken at the outermost level, the lock is not released by a savepoint's rollback.
        if checked is None or not _open(current, checked[0]):
            marker = _TransactionMarker()
            transaction.on_commit(marker)
            checked = _checked[current] = (marker, set())
        checked[1].add(domain)


class _TransactionMarker:
    """Marks one transaction: Django empties a connection's on-commit callbacks when its
    transaction commits or rolls back, so the marker is among them exactly while it is open. (The
    outermost atomic block would not do: a function decorated with @transaction.atomic reuses one
    block object for every call, so a thread's next write would find its last one's check.)"""

    def __call__(self) -> None:
        pass


def _open(current: BaseDatabaseWrapper, marker: object) -> bool:
    # Django's entries are (savepoint ids, callback, robust).
    return any(entry[1] is marker for entry in current.run_on_commit)


def set_ownership(*, domain: str, owner: str, state: OwnershipState | str) -> Ownership:
    """Records a new owner or state; waits for writes of the domain under way to commit."""
    state = OwnershipState(state)  # an unknown state raises here, before anything is written
    _ensure_row(domain)
    _checked.pop(connections[DEFAULT_DB_ALIAS], None)  # what was checked may have changed
    with transaction.atomic():
        row = DomainOwnership.objects.select_for_update().get(domain=domain)
        row.owner, row.state = owner, state
        row.save(update_fields=["owner", "state", "updated_at"])
    return Ownership(domain=domain, owner=owner, state=state)


def _unavailable() -> HttpResponse:
    return json_error(
        "Service temporarily unavailable, please retry.", status=503, headers={"Retry-After": "1"}
    )


def _deadline(request) -> float:
    """The wall-clock time after which this write must not start."""
    own = time.time() + strangler_settings.HANDOVER_WAIT_SECONDS
    try:
        return min(own, float(request.headers.get(DEADLINE_HEADER, own)))
    except ValueError:
        return own


def _forward(request, owner: str, deadline: float) -> HttpResponse:
    chain = [name for name in request.headers.get(FORWARDED_BY_HEADER, "").split(",") if name]
    if this_backend() in chain:
        # It went round: two backends disagree on the owner. Never loop; the client retries.
        return _unavailable()
    base_url = strangler_settings.BACKEND_URLS[owner]
    headers = {
        name: request.headers[name]
        for name in _FORWARDED_REQUEST_HEADERS
        if name in request.headers
    }
    headers[FORWARDED_BY_HEADER] = ",".join([*chain, this_backend()])
    headers[DEADLINE_HEADER] = f"{deadline:.3f}"
    remaining = deadline - time.time()
    if remaining <= 0:
        return _unavailable()
    try:
        with service_client(base_url, retries=0, timeout=remaining + WRITE_SECONDS) as client:
            answer = client.request(
                request.method, request.get_full_path(), content=request.body, headers=headers
            )
    except httpx.TransportError:
        return _unavailable()
    response = HttpResponse(
        answer.content,
        status=answer.status_code,
        content_type=answer.headers.get("Content-Type", "application/json"),
    )
    for name in _FORWARDED_RESPONSE_HEADERS:
        if name in answer.headers:
            response[name] = answer.headers[name]
    return response


def wait_out_handover(domain: str, deadline: float) -> Ownership:
    """Polls with plain reads (no write transaction, so waiting writes never compete with the
    handover for the database) until the handover ends or the deadline passes; the ownership
    last seen."""
    ownership = current_ownership(domain)
    while ownership.state == OwnershipState.HANDOVER and time.time() < deadline:
        time.sleep(0.02)
        ownership = current_ownership(domain)
    return ownership


def settled_owner(domain: str) -> Ownership:
    """The domain's ownership once a handover under way has ended (bounded by the handover
    wait): a backend deciding whether to write a domain here or call its owner through the
    proxy decides after it, or its call could come back to itself mid-handover."""
    return wait_out_handover(domain, time.time() + strangler_settings.HANDOVER_WAIT_SECONDS)


def settled_here(domain: str) -> bool:
    """Whether the domain's writes happen here once a handover under way has ended (a look: the
    write checks again). A port choosing between the local ORM and the owner's internal API
    asks this: mid-handover the proxy may still route the internal API here, and a call would
    wait on itself."""
    ownership = settled_owner(domain)
    return ownership.owner == this_backend() and ownership.state == OwnershipState.ACTIVE


def _request_of(args: tuple) -> HttpRequest:
    """The request a view function (request, ...) or a view method (self, request, ...) got;
    DRF's Request wraps Django's."""
    first = args[0]
    request = first if isinstance(first, HttpRequest) or hasattr(first, "_request") else args[1]
    return getattr(request, "_request", request)


def owned_write(domain: str):
    """Decorates a view function or method that writes `domain`: runs it where this backend
    owns the domain, waits out a handover, and forwards the request to the owner otherwise."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            raw_request = _request_of(args)
            raw_request.body  # noqa: B018  keep the raw body: a forward needs it after parsing
            deadline = _deadline(raw_request)
            while time.time() < deadline:
                try:
                    return view(*args, **kwargs)
                except NotOwner as exc:
                    ownership = exc.ownership
                if ownership.state == OwnershipState.HANDOVER:
                    wait_out_handover(ownership.domain, deadline)
                    continue
                return _forward(raw_request, ownership.owner, deadline)
            return _unavailable()

        return wrapper

    return decorate
