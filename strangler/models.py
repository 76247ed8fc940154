from .sync.models import AggregateVersion, DomainOwnership, InboxEvent, OutboxEvent

__all__ = ["AggregateVersion", "DomainOwnership", "InboxEvent", "OutboxEvent"]
