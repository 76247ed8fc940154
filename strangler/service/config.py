"""Settings every backend derives the same way from its environment: its database and the
server-less development broker. Each backend's settings module calls these with its own values."""

from pathlib import Path

import environ

from .broker import use_atomic_filesystem_transport

SQLITE_ENGINE = "django.db.backends.sqlite3"
SQLITE_IN_MEMORY = ("", ":memory:")
BROKER_FOLDERS = ("queue", "processed", "control")


def database_settings(url: str, *, conn_max_age: int = 60) -> dict:
    """DATABASES["default"] for a database URL (sqlite:///..., postgres://...)."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] == SQLITE_ENGINE:
        # Several gunicorn workers share one file: WAL lets readers run beside the writer, and
        # BEGIN IMMEDIATE takes the write lock up front so two writers queue instead of failing
        # with "database is locked" when they upgrade a read lock; they queue on a file lock
        # (strangler.service.sqlite), not on SQLite's polling busy handler.
        config["ENGINE"] = "strangler.service.sqlite"
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        if config["NAME"] not in SQLITE_IN_MEMORY:
            # A file, not shared-cache memory, so tests see the same locking as production.
            database = Path(config["NAME"])
            config["TEST"] = {"NAME": str(database.with_name(f"test-{database.name}"))}
    else:
        config["CONN_MAX_AGE"] = conn_max_age
        config["CONN_HEALTH_CHECKS"] = True
    return config


def filesystem_broker_options(broker_dir: Path) -> dict:
    """CELERY_BROKER_TRANSPORT_OPTIONS for kombu's filesystem transport, creating its folders.

    Backends that exchange events must share broker_dir, control folder included: the control
    folder holds the exchange-to-queue bindings, and a message published to an exchange whose
    bindings a backend cannot see is dropped as undeliverable.
    """
    use_atomic_filesystem_transport()
    for folder in BROKER_FOLDERS:
        (broker_dir / folder).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
        # kombu polls the folder; its default of 1 s would add up to a second of sync lag.
        "polling_interval": 0.1,
    }


# How long a message a consumer took may stay unacknowledged before Redis hands it to another
# consumer. The sync consumers acknowledge a batch once it is applied (acks_late), so this is what
# a batch whose consumer died (SIGKILL, OOM, a lost host) waits before it is applied after all:
# kombu's default of an hour would leave a copy behind, and a flip refused, for that long. It
# must exceed the longest a message is legitimately held unacknowledged, or a task still running
# or waiting for its countdown is delivered twice: a sync batch takes seconds and retries after
# at most 5 s, but a task retried with exponential backoff is held for its countdown (the
# monolith's order mails wait up to 128 s), so the default leaves room for that.
REDIS_VISIBILITY_TIMEOUT = 300
# kombu sweeps for messages past their visibility timeout every interval x throttle seconds
# (10 x 10 by default): every 10 s instead, so a redelivery follows the timeout closely.
REDIS_RESTORE_INTERVAL = 10


def redis_broker_options(*, visibility_timeout: int = REDIS_VISIBILITY_TIMEOUT) -> dict:
    """CELERY_BROKER_TRANSPORT_OPTIONS for kombu's Redis transport."""
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": min(REDIS_RESTORE_INTERVAL, visibility_timeout),
        "unacked_restore_throttle": 1,
    }


def rest_framework_settings() -> dict:
    """REST_FRAMEWORK for every backend: the chassis' auth, parser, pagination and errors, so
    that the same request gets the same answer whichever backend serves it."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": ["strangler.service.authentication.JWTAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["strangler.service.parsers.JSONParser"],
        "DEFAULT_PAGINATION_CLASS": "strangler.service.pagination.StrictPageNumberPagination",
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "EXCEPTION_HANDLER": "strangler.service.errors.exception_handler",
        "DEFAULT_THROTTLE_CLASSES": [],
        "PAGE_SIZE": 20,
    }


READ_CACHE_ALIAS = "strangler-read"
# Per process: ten thousand products' answers and every list page anyone asks for, a few tens
# of megabytes at most; what is evicted is computed again. Keys die with their generation,
# so the timeout only bounds how long dead ones take space (in a shared Redis).
DEFAULT_READ_CACHE_URL = f"locmemcache://{READ_CACHE_ALIAS}?max_entries=20000&timeout=600"


def read_cache_settings(env: environ.Env, *, domains: tuple[str, ...]) -> dict:
    """The settings of the read cache of `domains` (strangler.service.read_cache) but its
    middleware: its cache, from READ_CACHE_URL (e.g. redis://127.0.0.1:6379/3)."""
    cache = env.cache_url("READ_CACHE_URL", default=DEFAULT_READ_CACHE_URL)
    cache.setdefault("TIMEOUT", 600)
    return {
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            READ_CACHE_ALIAS: cache,
        },
        "STRANGLER_READ_CACHE_DOMAINS": tuple(domains),
        "STRANGLER_READ_CACHE_ALIAS": READ_CACHE_ALIAS,
    }


def jwt_settings(env: environ.Env, *, production: bool, var_dir: Path) -> dict:
    """The JWT_* settings of a backend that issues or verifies access tokens (RS256, kid).

    The key comes from JWT_PRIVATE_KEY (PEM) or JWT_PRIVATE_KEY_FILE, generated under var/ in
    development and required in production; JWT_EXTRA_PUBLIC_KEY_FILES lists public keys still
    accepted during a rotation.
    """
    private_key = env.str("JWT_PRIVATE_KEY", default="")
    private_key_file = env.str(
        "JWT_PRIVATE_KEY_FILE",
        default="" if production else str(var_dir / "keys" / "jwt-private.pem"),
    )
    if production and not (private_key or private_key_file):
        raise environ.ImproperlyConfigured(
            "Set JWT_PRIVATE_KEY_FILE or JWT_PRIVATE_KEY in production"
        )
    return {
        "JWT_ISSUER": env.str("JWT_ISSUER", default="shop"),
        "JWT_ACCESS_TTL_SECONDS": 900,
        "JWT_REFRESH_TTL_SECONDS": 7 * 24 * 3600,
        "JWT_PRIVATE_KEY": private_key,
        "JWT_PRIVATE_KEY_FILE": private_key_file,
        "JWT_EXTRA_PUBLIC_KEY_FILES": env.list("JWT_EXTRA_PUBLIC_KEY_FILES", default=[]),
    }


# A year: what HSTS preload lists ask for, and long enough that a browser rarely falls back to
# plain HTTP between visits.
HSTS_SECONDS = 365 * 24 * 3600


def transport_security_settings(env: environ.Env, *, production: bool) -> dict:
    """What keeps a production backend's cookies and pages on HTTPS. TLS ends before the proxy,
    which says so in X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER): the HSTS header goes only on
    requests that came over HTTPS. Development serves plain HTTP, where Secure cookies would
    never come back and HSTS would pin localhost to HTTPS."""
    # A browser sniffing a JSON answer as HTML would run it: never, whatever the environment.
    settings = {"SECURE_CONTENT_TYPE_NOSNIFF": True}
    if not production:
        return {
            **settings,
            "SESSION_COOKIE_SECURE": False,
            "CSRF_COOKIE_SECURE": False,
            "SECURE_HSTS_SECONDS": 0,
        }
    return {
        **settings,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": env.int("DJANGO_SECURE_HSTS_SECONDS", default=HSTS_SECONDS),
        # Off unless asked for: it pins every subdomain of the shop's host to HTTPS, including
        # ones this deployment does not serve.
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env.bool(
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False
        ),
    }


def password_hashers() -> list[str]:
    """PASSWORD_HASHERS of every backend that checks passwords: the same list everywhere, so a
    hash written on one backend verifies on the others. Argon2id with OWASP's recommended
    parameters first (about 30 ms a hash, so a burst of logins does not starve the machine);
    PBKDF2 hashes still verify and are upgraded at the next login."""
    return [
        "strangler.service.passwords.Argon2idPasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
