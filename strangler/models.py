from .service.models import FailedAttempt
from .sync.models import AggregateVersion, DomainOwnership, InboxEvent, OutboxEvent

__all__ = ["AggregateVersion", "DomainOwnership", "FailedAttempt", "InboxEvent", "OutboxEvent"]
