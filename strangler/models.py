from .service.models import FailureCount
from .sync.models import AggregateVersion, DomainOwnership, InboxEvent, OutboxEvent

__all__ = ["AggregateVersion", "DomainOwnership", "FailureCount", "InboxEvent", "OutboxEvent"]
