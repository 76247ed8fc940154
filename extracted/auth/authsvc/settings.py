"""Settings of the auth service, all from the environment (django-environ).

Like the monolith's: development (SHOP_ENV=development, the default) needs no configuration at
all: SQLite and the filesystem broker under var/, and the JWT key pair under var/keys that the
monolith uses too, so that tokens issued by either verify on both. Production
(SHOP_ENV=production) refuses to start without its secrets.
"""

from pathlib import Path

import environ

from strangler.service.config import (
    database_settings,
    filesystem_broker_options,
    jwt_settings,
    password_hashers,
    rest_framework_settings,
)
from strangler.service.logging import json_logging

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("SHOP_VAR_DIR", default=str(REPO_DIR / "var")))
SHOP_ENV = env.str("SHOP_ENV", default="development")
if SHOP_ENV not in {"development", "production"}:
    raise environ.ImproperlyConfigured("SHOP_ENV must be 'development' or 'production'")
PRODUCTION = SHOP_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="development-only-not-a-secret")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "strangler",
    "users",
]

# The monolith's stack, in the same order: clients must see the same headers from both.
MIDDLEWARE = [
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
]

ROOT_URLCONF = "authsvc.urls"
APPEND_SLASH = False
TEMPLATES = [
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
]
WSGI_APPLICATION = "authsvc.wsgi.application"

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_settings(
        env.str("AUTH_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'auth.sqlite3'}"),
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", default=60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = []
PASSWORD_HASHERS = password_hashers()

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# The admin's static files, collected by `make auth-migrate` and served by whitenoise.
STATIC_ROOT = VAR_DIR / "auth-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Bodies over 1 MiB are refused with 413 before they are read (strangler.service.body_size).
MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REST_FRAMEWORK = rest_framework_settings()

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API: auth service",
    "DESCRIPTION": "The auth domain of the shop's public HTTP API (see shop-api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "strangler.service.openapi.add_error_responses",
    ],
}

# Access tokens: RS256 JWTs with a `kid` derived from the key. The service signs with the same
# key as the monolith (JWT_PRIVATE_KEY_FILE, or JWT_PRIVATE_KEY holding the PEM), so a token
# issued by either before or after a flip verifies everywhere. Rotation: sign with the new key
# and list the old public key in JWT_EXTRA_PUBLIC_KEY_FILES until its tokens have expired.
vars().update(jwt_settings(env, production=PRODUCTION, var_dir=VAR_DIR))

# Celery: the monolith's broker. With the default filesystem transport both backends must use
# the same folders (var/broker), or the events they publish to each other are never delivered.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "auth"

LOGGING = json_logging(env.str("LOG_LEVEL", default="INFO"))

# Strangler: this backend's name, where the others are (service-to-service calls: forwarded
# writes, sync), who owns the auth domain before any migration step (the monolith, until
# `strangle apply 1-auth` hands it over), and which backends receive copies of its aggregates.
MONOLITH_URL = env.str("MONOLITH_URL", default="http://127.0.0.1:8000")
AUTH_URL = env.str("AUTH_URL", default="http://127.0.0.1:8001")
STRANGLER_BACKEND = "auth"
STRANGLER_BACKEND_URLS = {"monolith": MONOLITH_URL, "auth": AUTH_URL}
STRANGLER_INITIAL_OWNERS = {"auth": "monolith"}
STRANGLER_SYNC_SUBSCRIBERS = {"user": ["monolith"], "refresh_token": ["monolith"]}
STRANGLER_USER_AGGREGATE = "user"
STRANGLER_HANDOVER_WAIT_SECONDS = env.float("STRANGLER_HANDOVER_WAIT_SECONDS", default=10.0)
STRANGLER_INTERNAL_TOKEN = env.str("STRANGLER_INTERNAL_TOKEN", default="")
