"""Read-through for a copy that trails its owner: fetch one missing row from the owner now.

A user registered on the auth service a moment ago, whose event has not reached the monolith
yet, still gets their token accepted there: the monolith asks the owner for that row and keeps
it, with the owner's version, so the event arriving later is recognised as already applied.
"""

import contextlib
import logging

from django.db import IntegrityError

from strangler.conf import strangler_settings

from . import registry
from .client import BackendSync, SyncError
from .consumer import store
from .ownership import current_ownership, this_backend

logger = logging.getLogger(__name__)


def load_missing(aggregate_name: str, pk: int):
    """The row `pk` of the aggregate, fetched from the domain's owner; None if it has none."""
    if pk < 1:
        return None  # ids are positive: no owner has it
    aggregate = registry.by_name(aggregate_name)
    owner = current_ownership(aggregate.domain).owner
    if owner == this_backend():
        return None
    source = BackendSync(owner, strangler_settings.BACKEND_URLS[owner], timeout=2.0)
    try:
        rows = source.rows_by_id(aggregate_name, [pk])
    except SyncError as exc:
        logger.warning("read-through of %s %s from %s failed: %s", aggregate_name, pk, owner, exc)
        return None
    if not rows or rows[0]["id"] != pk:
        return None
    # The event may land meanwhile: the row is here either way, never over a newer version.
    with contextlib.suppress(IntegrityError):
        store(aggregate, rows)
    return aggregate.model._default_manager.filter(pk=pk).first()
