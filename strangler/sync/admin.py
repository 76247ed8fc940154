"""The Django admin of a synced model, on whichever backend it runs.

On the domain's owner the admin saves as usual (the model records the change). On a copy the
admin still shows the change form, but a save is sent to the owner as the owner's own write
(`/internal/sync/aggregates/<name>/changes`), and the copy follows through the sync like every
other change. Adding and deleting stay with the owner's admin.
"""

import time

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from strangler.conf import strangler_settings

from . import registry
from .client import BackendRefused, BackendSync, SyncError
from .models import AggregateVersion
from .ownership import current_ownership, this_backend

FOLLOW_SECONDS = 3.0


class SyncedModelAdmin(admin.ModelAdmin):
    """The ModelAdmin of a model registered as a synced aggregate, or mixed in before another
    ModelAdmin (`class UserAdmin(SyncedModelAdmin, auth.admin.UserAdmin)`)."""

    def _aggregate(self) -> registry.Aggregate:
        return registry.for_model(self.model)

    def _owner(self) -> str | None:
        """The owner's name when it is another backend, None when this backend owns it."""
        owner = current_ownership(self._aggregate().domain).owner
        return None if owner == this_backend() else owner

    def has_add_permission(self, request) -> bool:
        return self._owner() is None and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        owner = self._owner()
        if owner is None:
            return super().save_model(request, obj, form, change)
        fields = [name for name in form.changed_data if name in self._aggregate().fields]
        request._strangler_refused = not self.forward_change(
            request, obj, fields=fields, owner=owner
        )

    def response_change(self, request, obj):
        if getattr(request, "_strangler_refused", False):
            # The owner refused: back to the form, without Django's "changed successfully".
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    def forward_change(self, request, obj, *, fields: list[str], owner: str) -> bool:
        """Sends the changed fields of `obj` to the owner; waits (briefly) until this copy
        holds the result, so the page after the redirect shows it."""
        if not fields:
            return True
        aggregate = self._aggregate()
        payload = aggregate.payload(obj)
        before = _version(aggregate, obj.pk)
        try:
            BackendSync(owner, strangler_settings.BACKEND_URLS[owner], timeout=10.0).change(
                aggregate.name, pk=obj.pk, fields={name: payload[name] for name in fields}
            )
        except BackendRefused as refusal:
            self.message_user(
                request,
                f"Not saved: {owner} owns {aggregate.domain} and refused the change "
                f"({refusal.detail}).",
                messages.ERROR,
            )
            return False
        except SyncError as exc:
            self.message_user(
                request,
                f"Not saved: {owner} owns {aggregate.domain} and could not be asked ({exc}).",
                messages.ERROR,
            )
            return False
        deadline = time.monotonic() + FOLLOW_SECONDS
        while _version(aggregate, obj.pk) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.message_user(
            request,
            f"Saved on {owner}, which owns {aggregate.domain}; this copy follows its changes.",
            messages.INFO,
        )
        return True


def _version(aggregate: registry.Aggregate, pk) -> int:
    return (
        AggregateVersion.objects.filter(aggregate_type=aggregate.name, aggregate_id=str(pk))
        .values_list("version", flat=True)
        .first()
        or 0
    )
