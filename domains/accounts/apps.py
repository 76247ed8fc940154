from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from strangler.sync import registry

        from .models import RefreshToken, User

        # The auth domain's data, copied to (and, once auth owns it, from) the auth service.
        registry.register(
            registry.Aggregate(
                name="user",
                domain="auth",
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
                domain="auth",
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
