"""The chassis builds a backend's settings: what every backend of a migration shares, so that a
backend's own settings module says only what is its own (its name, its apps, its database
variable) and the same request gets the same answer whichever backend serves it.

    # settings.py of a backend
    vars().update(backend_settings(backend="auth", project="authsvc", apps=["accounts"], ...))

Nothing here imports DRF or the admin: settings are still being read when this runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import environ

from .config import (
    REDIS_VISIBILITY_TIMEOUT,
    database_settings,
    filesystem_broker_options,
    jwt_settings,
    password_hashers,
    read_cache_settings,
    redis_broker_options,
    rest_framework_settings,
    transport_security_settings,
)
from .internal_token import internal_token_settings
from .logging import json_logging

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# kombu's Redis transport: plain, TLS and Sentinel URLs.
REDIS_SCHEMES = ("redis://", "rediss://", "sentinel://")

# Bodies over 1 MiB are refused with 413 before they are read (strangler.service.body_size).
MAX_REQUEST_BODY_BYTES = 1024 * 1024

# django-prometheus' pair wraps everything else, so /metrics counts every request and its time.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The request's trace (traceparent), which every log line below carries.
    "strangler.service.tracing.TraceContextMiddleware",
    "strangler.service.request_id.RequestIdMiddleware",
    "strangler.service.body_size.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

READ_CACHE_MIDDLEWARE = "strangler.service.read_cache.ReadCacheMiddleware"
READ_CACHE_AFTER = "django.middleware.security.SecurityMiddleware"

# Django's validators, applied wherever a password is set (registration, the admin's forms).
# Eight characters is the contract's minimum (shop-api.md); the others refuse what guessing
# tries first: common passwords, digits only, and the user's own e-mail or name.
PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}", **options}
    for name, options in (
        ("UserAttributeSimilarityValidator", {}),
        ("MinimumLengthValidator", {"OPTIONS": {"min_length": 8}}),
        ("CommonPasswordValidator", {}),
        ("NumericPasswordValidator", {}),
    )
]

FRAMEWORK_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_prometheus",
    "strangler",
]


def backend_settings(
    *,
    env: environ.Env,
    backend: str,
    project: str,
    apps: list[str],
    production: bool,
    var_dir: Path,
    plan: Path,
    database_env: str,
    static_root: Path,
    api_title: str,
    api_description: str,
    cached_domains: tuple[str, ...] = (),
) -> dict:
    """Every Django setting a backend shares with the others, from its environment.

    `cached_domains` switches on the read cache (strangler.service.read_cache) for the reads
    of those domains, kept in the cache READ_CACHE_URL names (this process's memory unless
    set: `redis://host:6379/N` shares it between the backend's processes)."""
    if production:
        secret_key = env.str("DJANGO_SECRET_KEY")
    else:
        secret_key = env.str("DJANGO_SECRET_KEY", default="development-only-not-a-secret")
    var_dir.mkdir(parents=True, exist_ok=True)
    static_root.mkdir(parents=True, exist_ok=True)
    # STRANGLER_METRICS_DIR/<backend>: the folder this backend's processes share their metrics
    # in (strangler.service.metrics). prometheus_client reads its variable when first imported,
    # which is after the settings (by the apps), and needs the folder to exist.
    metrics_root = env.str("STRANGLER_METRICS_DIR", default="")
    if metrics_root:
        if "prometheus_client" in sys.modules:
            raise environ.ImproperlyConfigured(
                "STRANGLER_METRICS_DIR: prometheus_client was imported before the settings"
            )
        metrics_dir = Path(metrics_root) / backend
        metrics_dir.mkdir(parents=True, exist_ok=True)
        os.environ[MULTIPROCESS_DIR_ENV] = str(metrics_dir)
    broker_url = env.str("CELERY_BROKER_URL", default="filesystem://")
    settings = {
        "SECRET_KEY": secret_key,
        "DEBUG": env.bool("DJANGO_DEBUG", default=False),
        "ALLOWED_HOSTS": env.list("DJANGO_ALLOWED_HOSTS", default=[] if production else ["*"]),
        "USE_X_FORWARDED_HOST": env.bool("DJANGO_USE_X_FORWARDED_HOST", default=True),
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        **transport_security_settings(env, production=production),
        "INSTALLED_APPS": [*FRAMEWORK_APPS, *apps],
        "MIDDLEWARE": list(MIDDLEWARE),
        "ROOT_URLCONF": f"{project}.urls",
        "WSGI_APPLICATION": f"{project}.wsgi.application",
        "APPEND_SLASH": False,
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "DATABASES": {
            "default": database_settings(
                env.str(database_env, default=f"sqlite:///{var_dir / f'{backend}.sqlite3'}"),
                conn_max_age=env.int("DATABASE_CONN_MAX_AGE", default=60),
            )
        },
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "AUTH_PASSWORD_VALIDATORS": PASSWORD_VALIDATORS,
        "PASSWORD_HASHERS": password_hashers(),
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "static/",
        "STATIC_ROOT": static_root,
        "MAX_REQUEST_BODY_BYTES": MAX_REQUEST_BODY_BYTES,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": MAX_REQUEST_BODY_BYTES,
        "REST_FRAMEWORK": rest_framework_settings(),
        "SPECTACULAR_SETTINGS": {
            "TITLE": api_title,
            "DESCRIPTION": api_description,
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "COMPONENT_SPLIT_REQUEST": True,
            "SCHEMA_PATH_PREFIX": r"/api",
            "POSTPROCESSING_HOOKS": [
                "drf_spectacular.hooks.postprocess_schema_enums",
                "strangler.service.openapi.add_error_responses",
            ],
        },
        # Celery: a broker that needs no server by default (backends exchanging events must
        # share its folders); Redis or RabbitMQ when CELERY_BROKER_URL is set.
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": env.bool("CELERY_TASK_ALWAYS_EAGER", default=False),
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_TASK_REJECT_ON_WORKER_LOST": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_TASK_DEFAULT_QUEUE": backend,
        # Celery's Django fixup closes the database connection around every task unless this is
        # set: each sync batch would open a new connection (746 in 15 s at 200 events/s).
        "CELERY_DB_REUSE_MAX": 1000,
        # Celery beat (one per backend): undo calls whose local write never came
        # (strangler.sync.compensations).
        "CELERY_BEAT_SCHEDULE": {
            "sweep-compensations": {
                "task": "strangler.sync.sweep_compensations",
                "schedule": env.float("STRANGLER_SWEEP_SECONDS", default=10.0),
            }
        },
        "LOGGING": json_logging(env.str("LOG_LEVEL", default="INFO")),
        # The framework: this backend's name in the plan, and the plan, which declares the
        # others' URLs, the owners per step and so who keeps copies of what (strangler.conf).
        "STRANGLER_BACKEND": backend,
        "STRANGLER_PLAN": plan,
        "STRANGLER_HANDOVER_WAIT_SECONDS": env.float(
            "STRANGLER_HANDOVER_WAIT_SECONDS", default=10.0
        ),
        "STRANGLER_INTERNAL_PROXY_URL": env.str(
            "PROXY_INTERNAL_URL", default="http://127.0.0.1:8081"
        ),
        # Who may say where a request came from (X-Forwarded-For): the proxy's address.
        "STRANGLER_TRUSTED_PROXIES": env.list(
            "STRANGLER_TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"]
        ),
    }
    if cached_domains:
        # Inside the request id, the body size limit and the security headers, which every
        # answer gets; outside what the views' answers need (sessions, CSRF, users, messages),
        # whose marks on a computed answer are kept with it (strangler.service.read_cache).
        position = settings["MIDDLEWARE"].index(READ_CACHE_AFTER) + 1
        settings["MIDDLEWARE"].insert(position, READ_CACHE_MIDDLEWARE)
        settings.update(read_cache_settings(env, domains=cached_domains))
    if broker_url.startswith("filesystem://"):
        settings["CELERY_BROKER_TRANSPORT_OPTIONS"] = filesystem_broker_options(var_dir / "broker")
    elif broker_url.startswith(REDIS_SCHEMES):
        settings["CELERY_BROKER_TRANSPORT_OPTIONS"] = redis_broker_options(
            visibility_timeout=env.int(
                "CELERY_VISIBILITY_TIMEOUT", default=REDIS_VISIBILITY_TIMEOUT
            )
        )
    # Access tokens: RS256 JWTs with a `kid`, one key for every backend, so a token survives
    # every flip (strangler.service.config.jwt_settings).
    settings.update(jwt_settings(env, production=production, var_dir=var_dir))
    # The internal API's credential, one for every backend and the CLI; required in production,
    # generated under var/ in development (strangler.service.internal_token).
    settings.update(internal_token_settings(env, production=production, var_dir=var_dir))
    return settings
