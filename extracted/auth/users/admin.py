from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from strangler.sync.ownership import current_ownership, this_backend

from . import services
from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "name", "is_staff", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "name", "password1", "password2"]})]

    def save_model(self, request, obj, form, change):
        services.save_user(user=obj)

    def _owns_users(self) -> bool:
        # Until the flip the monolith owns users and this copy is read-only here.
        return current_ownership(services.DOMAIN).owner == this_backend()

    def has_add_permission(self, request) -> bool:
        return self._owns_users() and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._owns_users() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
