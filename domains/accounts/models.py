from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from strangler.sync.recorded import SyncedModel, SyncedQuerySet


class UserManager(BaseUserManager.from_queryset(SyncedQuerySet)):
    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(SyncedModel, AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            # Emails are unique whatever their case: Alice@x and alice@x are one person.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")
        ]

    def __str__(self) -> str:
        return self.email

    def check_password(self, raw_password) -> bool:
        def rehash(raw: str) -> None:
            # A match may re-hash the password with current parameters: the same password, so
            # the user's logins stay valid. Only the owner re-hashes; a copy keeps its hash.
            if not self.owned_here():
                return
            self.set_password(raw)
            self._password = None
            self._rehashing = True
            try:
                self.save(update_fields=["password"])
            finally:
                self._rehashing = False

        return check_password(raw_password, self.password, rehash)

    def save(self, *args, **kwargs):
        """Saves and records the user; a new password (from any path: the API, the admin's
        password form, `changepassword`) revokes every refresh token the user holds."""
        update_fields = kwargs.get("update_fields")
        may_change_password = not (
            self._state.adding
            or getattr(self, "_rehashing", False)
            or (update_fields is not None and "password" not in update_fields)
        )
        with transaction.atomic(using=kwargs.get("using")):
            stored = (
                type(self)._default_manager.filter(pk=self.pk).values_list("password").first()
                if may_change_password
                else None
            )
            super().save(*args, **kwargs)
            if stored is not None and stored[0] != self.password:
                now = timezone.now()
                for token in self.refresh_tokens.filter(revoked_at__isnull=True):
                    token.revoked_at = now
                    token.save(update_fields=["revoked_at"])


class RefreshToken(SyncedModel):
    """An opaque, single-use refresh token; only its hash is stored.

    Tokens issued from one login share a family, so that reuse of a spent token (a sign it
    leaked) revokes every token of that login.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = SyncedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"refresh token {self.pk} of user {self.user_id}"
