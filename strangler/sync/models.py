import uuid

from django.db import models

from .states import OwnershipState


class OutboxEvent(models.Model):
    """A change to an aggregate, written in the transaction that made it, published later."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    version = models.BigIntegerField()
    # Events sharing a partition key are applied in order by one consumer (see partitions.py).
    partition_key = models.CharField(max_length=64, default="")
    payload = models.JSONField(null=True)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "strangler"
        indexes = [
            models.Index(
                fields=["id"], name="outbox_unsent", condition=models.Q(sent_at__isnull=True)
            ),
            models.Index(fields=["aggregate_type", "id"], name="outbox_by_aggregate"),
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} v{self.version}"


class InboxEvent(models.Model):
    """An event this backend has applied (or judged stale): a second delivery is a no-op."""

    event_id = models.UUIDField(primary_key=True)
    source = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    version = models.BigIntegerField()
    outcome = models.CharField(max_length=16)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "strangler"
        indexes = [models.Index(fields=["source", "applied_at"], name="inbox_by_source")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.outcome}"


class AggregateVersion(models.Model):
    """The last version of an aggregate this backend wrote (as owner) or applied (as copy)."""

    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    version = models.BigIntegerField()

    class Meta:
        app_label = "strangler"
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id"], name="one_version_per_aggregate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type}:{self.aggregate_id} v{self.version}"


class DomainOwnership(models.Model):
    """Which backend owns a domain's writes, as this backend knows it."""

    domain = models.CharField(max_length=64, primary_key=True)
    owner = models.CharField(max_length=64)
    state = models.CharField(
        max_length=16,
        choices=[(state.value, state.name.title()) for state in OwnershipState],
        default=OwnershipState.ACTIVE.value,
    )
    updated_at = models.DateTimeField(auto_now=True)
    # When a backfill of the domain into this backend's copy last finished: a copy that was
    # never backfilled holds only what live sync brought since it started.
    backfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "strangler"

    def __str__(self) -> str:
        return f"{self.domain} -> {self.owner} ({self.state})"


class Compensation(models.Model):
    """What undoes a call already made on another domain's owner, recorded (and committed)
    before the call: cleared in the transaction of the local write that makes the call's effect
    wanted, run when that write fails, and run by the sweeper when the process died in between
    (strangler.sync.compensations)."""

    key = models.CharField(max_length=150, unique=True)
    action = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.action}({self.key})"


def _new_epoch() -> str:
    return uuid.uuid4().hex


class DomainGeneration(models.Model):
    """How often a domain's data changed on this backend: bumped in the transaction of every
    change of the domain (an owner's write, an applied event, a backfill page, a repair), so a
    reader that sees a generation sees every change counted in it. Responses cached under a
    generation are fresh exactly as long as it is current (strangler.service.read_cache).

    `epoch` is drawn when the row is created: a database made afresh counts from 1 again, and
    what was cached or handed out as an ETag under its predecessor's numbers must not match.
    """

    domain = models.CharField(max_length=64, primary_key=True)
    epoch = models.CharField(max_length=32, default=_new_epoch)
    value = models.BigIntegerField(default=0)

    class Meta:
        app_label = "strangler"

    def __str__(self) -> str:
        return f"{self.domain} generation {self.value}"
