"""Test data of synced models, for the tests of every backend that installs a domain."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models

from .outbox import applying_event
from .recorded import SyncedModel


@contextmanager
def written_here(model: type[models.Model]) -> Iterator[None]:
    """Writes of test rows where the test runs: the owner's own writes on the backend that owns
    the model's domain, else written the way the sync applies the owner's events (a copy refuses
    local writes, and the rows it holds all came from the owner)."""
    if not issubclass(model, SyncedModel) or model().owned_here():
        yield
        return
    with applying_event():
        yield
