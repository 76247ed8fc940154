from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse

from strangler.sync.admin import SyncedModelAdmin

from .forms import AdminLoginForm
from .models import User

# The admin's login is throttled like the API's (accounts.backends); the form reports a lockout.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class UserAdmin(SyncedModelAdmin, DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "name", "is_staff", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "name", "password1", "password2"]})]

    def user_change_password(self, request, id, form_url=""):
        """Django's password form; on a copy the new hash is saved by the owner."""
        owner = self._owner()
        if owner is None or request.method != "POST":
            return super().user_change_password(request, id, form_url)
        user = self.get_object(request, id)
        if user is None or not self.has_change_permission(request, user):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid():
            return super().user_change_password(request, id, form_url)
        form.save(commit=False)  # sets the new hash on `user` without saving it here
        if self.forward_change(request, user, fields=["password"], owner=owner):
            messages.success(request, "Password changed successfully.")
        opts = self.opts
        return HttpResponseRedirect(
            reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[user.pk]
            )
        )
