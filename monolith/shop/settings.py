"""Settings of the monolith, all from the environment (django-environ).

Development (SHOP_ENV=development, the default) works with no configuration at all: SQLite and a
filesystem broker under var/, a generated secret key and JWT key pair. Production
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
REPO_DIR = BASE_DIR.parent

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
    "shop",
    "accounts",
    "catalog",
    "reviews",
    "orders",
    "payments",
]

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

ROOT_URLCONF = "shop.urls"
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
WSGI_APPLICATION = "shop.wsgi.application"


VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_settings(
        env.str("MONOLITH_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'monolith.sqlite3'}"),
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", default=60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = []
PASSWORD_HASHERS = password_hashers()

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Bodies over 1 MiB are refused with 413 before they are read (strangler.service.body_size).
MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REST_FRAMEWORK = rest_framework_settings()

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "The shop's public HTTP API (see shop-api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "strangler.service.openapi.add_error_responses",
    ],
}

# Access tokens: RS256 JWTs with a `kid`. Key files are generated under var/ in development and
# required in production (JWT_PRIVATE_KEY_FILE, or JWT_PRIVATE_KEY holding the PEM).
vars().update(jwt_settings(env, production=PRODUCTION, var_dir=VAR_DIR))

SHOP_ADMIN_EMAIL = env.str("SHOP_ADMIN_EMAIL", default="" if PRODUCTION else "admin@shop.local")
SHOP_ADMIN_PASSWORD = env.str(
    "SHOP_ADMIN_PASSWORD", default="" if PRODUCTION else "admin-pass-1234"
)

# Celery: a broker that needs no server by default; Redis or RabbitMQ when CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "monolith"

# E-mail from EMAIL_URL (smtp://, consolemail://, ...); development writes mails to var/mail.
_email = env.email_url("EMAIL_URL") if PRODUCTION else env.email_url("EMAIL_URL", "filemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@shop.local")

LOGGING = json_logging(env.str("LOG_LEVEL", default="INFO"))

# Strangler: this backend's name, where the others are, who owns which domain before any
# migration step, and which backends receive copies of which aggregates.
STRANGLER_BACKEND = "monolith"
STRANGLER_BACKEND_URLS = {
    name: env.str(f"{name.upper()}_URL", default=f"http://127.0.0.1:{port}")
    for name, port in [("monolith", 8000), ("auth", 8001), ("catalog", 8002), ("orders", 8003)]
}
STRANGLER_INITIAL_OWNERS = {"auth": "monolith", "catalog": "monolith", "orders": "monolith"}
STRANGLER_SYNC_SUBSCRIBERS = {"user": ["auth"], "refresh_token": ["auth"]}
STRANGLER_USER_AGGREGATE = "user"
STRANGLER_HANDOVER_WAIT_SECONDS = env.float("STRANGLER_HANDOVER_WAIT_SECONDS", default=10.0)
STRANGLER_INTERNAL_TOKEN = env.str("STRANGLER_INTERNAL_TOKEN", default="")
STRANGLER_FLIP_HOOKS = ["strangler.sync.flip.OwnershipHandover"]

PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="payments.gateways.TestGateway")
