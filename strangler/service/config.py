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
        # BEGIN IMMEDIATE takes the write lock up front so two writers queue on the busy timeout
        # instead of failing with "database is locked" when they upgrade a read lock.
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
