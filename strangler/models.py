from .service.models import FailureCount
from .sync.models import (
    AggregateVersion,
    Compensation,
    DomainOwnership,
    InboxEvent,
    OutboxEvent,
)

__all__ = [
    "AggregateVersion",
    "Compensation",
    "DomainOwnership",
    "FailureCount",
    "InboxEvent",
    "OutboxEvent",
]
