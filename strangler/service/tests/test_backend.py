"""The chassis' settings of a production backend, behind TLS, against a development one."""

import environ
import pytest

from strangler.service.backend import backend_settings
from strangler.service.config import HSTS_SECONDS, REDIS_VISIBILITY_TIMEOUT

PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "a-production-secret-key",
    "JWT_PRIVATE_KEY_FILE": "/run/secrets/jwt_private_key",
    "STRANGLER_INTERNAL_TOKEN": "an-internal-token-of-at-least-32-characters",
}
HSTS_VARIABLES = ("DJANGO_SECURE_HSTS_SECONDS", "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
BROKER_VARIABLES = ("CELERY_BROKER_URL", "CELERY_VISIBILITY_TIMEOUT")


@pytest.fixture
def settings_of(tmp_path, monkeypatch):
    """The settings backend_settings builds from an environment holding only `variables`."""

    def build(*, production: bool, **variables: str) -> dict:
        for name in (*PRODUCTION_SECRETS, *HSTS_VARIABLES, *BROKER_VARIABLES):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return backend_settings(
            env=environ.Env(),
            backend="test",
            project="testproject",
            apps=[],
            production=production,
            var_dir=tmp_path / "var",
            plan=tmp_path / "plan.yaml",
            database_env="TEST_BACKEND_DATABASE_URL",
            static_root=tmp_path / "static",
            api_title="Test",
            api_description="Test",
        )

    return build


def test_production_sends_cookies_over_https_only_and_pins_the_shop_to_https_for_a_year(
    settings_of,
):
    settings = settings_of(production=True, **PRODUCTION_SECRETS)

    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] == HSTS_SECONDS == 31_536_000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    # HTTPS is what the proxy says it was: TLS ends before it.
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_production_hsts_duration_and_subdomains_come_from_the_environment(settings_of):
    settings = settings_of(
        production=True,
        DJANGO_SECURE_HSTS_SECONDS="600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        **PRODUCTION_SECRETS,
    )

    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_development_over_plain_http_keeps_cookies_usable_and_sends_no_hsts(settings_of):
    settings = settings_of(production=False)

    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["CSRF_COOKIE_SECURE"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0
    assert settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True


def test_on_redis_a_batch_whose_consumer_died_is_redelivered_after_five_minutes(settings_of):
    settings = settings_of(production=False, CELERY_BROKER_URL="redis://broker:6379/0")

    options = settings["CELERY_BROKER_TRANSPORT_OPTIONS"]
    # Not kombu's hour; longer than the longest countdown a backend's task waits (128 s).
    assert options["visibility_timeout"] == REDIS_VISIBILITY_TIMEOUT == 300
    # Looked for every 10 s, not every 100 s (kombu's interval times its throttle).
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] == 10
    assert settings["CELERY_TASK_ACKS_LATE"] is True


def test_the_redelivery_delay_comes_from_the_environment(settings_of):
    settings = settings_of(
        production=False, CELERY_BROKER_URL="rediss://broker:6380/0", CELERY_VISIBILITY_TIMEOUT="4"
    )

    options = settings["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["visibility_timeout"] == 4
    assert options["unacked_restore_interval"] == 4


def test_other_brokers_get_no_redis_options(settings_of):
    amqp = settings_of(production=False, CELERY_BROKER_URL="amqp://guest:guest@broker:5672//")
    filesystem = settings_of(production=False)

    assert "CELERY_BROKER_TRANSPORT_OPTIONS" not in amqp
    assert "visibility_timeout" not in filesystem["CELERY_BROKER_TRANSPORT_OPTIONS"]
