from .service.models import FailureCount
from .sync.models import (
    AggregateVersion,
    Compensation,
    DomainGeneration,
    DomainOwnership,
    InboxEvent,
    OutboxEvent,
)

__all__ = [
    "AggregateVersion",
    "Compensation",
    "DomainGeneration",
    "DomainOwnership",
    "FailureCount",
    "InboxEvent",
    "OutboxEvent",
]
