"""Synced models record their own changes: whatever path saves one (an API view, the admin's
password form, `createsuperuser`, `changepassword`, a rehash on login, a seed script), the save
checks that this backend owns the domain and writes the outbox event in the same transaction.

Bulk writes that skip `save()` (QuerySet.update, bulk_create, bulk_update, delete) are refused
outright on synced models, except when applying another backend's events. The rows a deletion
cascades to are not recorded one by one: every copy applies the same cascade when the deletion
arrives.
"""

from django.db import models, router, transaction

from . import registry
from .outbox import is_applying_event, record_change
from .ownership import NotOwner, check_ownership, require_ownership


class UnrecordedWrite(RuntimeError):
    """A bulk write of a synced model: it would change rows without telling the copies."""


def _refuse(model: type[models.Model], operation: str) -> None:
    if not is_applying_event():
        raise UnrecordedWrite(
            f"{model._meta.label}.objects.{operation}() would skip the sync outbox; "
            "save() or delete() each instance instead"
        )


class SyncedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse(self.model, "update")
        return super().update(**kwargs)

    def bulk_create(self, *args, **kwargs):
        _refuse(self.model, "bulk_create")
        return super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args, **kwargs):
        _refuse(self.model, "bulk_update")
        return super().bulk_update(*args, **kwargs)

    def delete(self):
        _refuse(self.model, "delete")
        return super().delete()


class SyncedModel(models.Model):
    """Base of a model registered as a synced aggregate (strangler.sync.registry)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._recorded(kwargs.get("update_fields")):
            return super().save(*args, **kwargs)

        def write() -> None:
            super(SyncedModel, self).save(*args, **kwargs)
            record_change(self, reread=kwargs.get("update_fields") is not None)

        self._owned_write(kwargs.get("using"), write)
        return None

    def delete(self, *args, **kwargs):
        if not self._recorded(None):
            return super().delete(*args, **kwargs)
        deleted = []

        def write() -> None:
            record_change(self, deleted=True)
            deleted.append(super(SyncedModel, self).delete(*args, **kwargs))

        self._owned_write(kwargs.get("using"), write)
        return deleted[0]

    def _owned_write(self, using: str | None, write) -> None:
        """Runs `write` where this backend owns the model's domain, in one transaction."""
        using = using or router.db_for_write(type(self), instance=self)
        domain = registry.for_model(type(self)).domain
        if transaction.get_connection(using).in_atomic_block:
            # Checked before any write: a refusal leaves the caller's transaction usable. No
            # savepoint after it: a failed save fails the caller's write, as it would alone.
            require_ownership(domain)
            with transaction.atomic(using=using, savepoint=False):
                write()
        else:
            with transaction.atomic(using=using):
                require_ownership(domain)
                write()

    def owned_here(self) -> bool:
        """Whether this backend owns the model's domain now (a look, not a lock)."""
        try:
            check_ownership(registry.for_model(type(self)).domain)
        except NotOwner:
            return False
        return True

    def _recorded(self, update_fields) -> bool:
        if is_applying_event():
            return False
        if update_fields is None:
            return True
        # A save of fields nobody copies (last_login) stays local: nothing to tell the copies.
        return bool(set(update_fields) & set(registry.for_model(type(self)).fields))
