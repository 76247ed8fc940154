from django.db import models
from django.utils import timezone


class FailedAttempt(models.Model):
    """One failure of something throttled (see strangler.service.throttle)."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "strangler"
        indexes = [models.Index(fields=["scope", "key", "at"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} at {self.at}"
