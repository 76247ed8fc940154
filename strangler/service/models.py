from django.db import models
from django.utils import timezone


class FailureCount(models.Model):
    """The attempts one key (e.g. an account from one client address) made at something
    throttled within the window that started at `started_at` (see strangler.service.throttle).

    One row per key, counted up by a single UPDATE: a count is atomic where rows per attempt
    needed a count and an insert that concurrent requests could interleave."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=400)
    count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "strangler"
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="strangler_failurecount_key")
        ]
        # Expired windows are purged by scope and age (throttle.count_attempt).
        indexes = [models.Index(fields=["scope", "started_at"], name="strangler_failure_age")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} x{self.count} since {self.started_at}"
