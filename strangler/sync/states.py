"""The states and outcomes sync records and sends, as their values on the wire and in tables."""

from enum import StrEnum


class OwnershipState(StrEnum):
    """A domain's writes run on their owner (ACTIVE), or wait while they move (HANDOVER)."""

    ACTIVE = "active"
    HANDOVER = "handover"


class EventOutcome(StrEnum):
    """What a copy did with an event it received."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied before: a redelivery
    STALE = "stale"  # a newer version was held already
    REFUSED = "refused"  # from a backend that may not own the domain: not applied
