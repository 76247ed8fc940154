from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from strangler.sync import registry

        from .models import RefreshToken, User
        from .services import DOMAIN

        # The auth domain's data, copied from (and, once this service owns it, to) the monolith:
        # the same aggregate names and fields as the monolith registers, so that events,
        # backfilled rows and parity checksums mean the same on both sides.
        registry.register(
            registry.Aggregate(
                name="user",
                domain=DOMAIN,
                model=User,
                fields=(
                    "email",
                    "name",
                    "password",
                    "is_staff",
                    "is_superuser",
                    "is_active",
                    "date_joined",
                ),
            )
        )
        registry.register(
            registry.Aggregate(
                name="refresh_token",
                domain=DOMAIN,
                model=RefreshToken,
                fields=(
                    "user",
                    "token_hash",
                    "family",
                    "created_at",
                    "expires_at",
                    "used_at",
                    "revoked_at",
                ),
                partition_by="user",
            )
        )
