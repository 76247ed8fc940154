"""The auth service's settings for the sync benchmark's --consumer-db-reuse experiment only.

Celery's Django fixup closes the database connection before and after every task unless
CELERY_DB_REUSE_MAX is set, so each sync message a consumer applies opens a new PostgreSQL
connection; with BENCH_CELERY_DB_REUSE_MAX set, the consumers keep theirs. Without the flag the
bench runs the auth service on authsvc.settings, unchanged.
"""

from authsvc.settings import *  # noqa: F403

if env.int("BENCH_CELERY_DB_REUSE_MAX", default=0):  # noqa: F405
    CELERY_DB_REUSE_MAX = env.int("BENCH_CELERY_DB_REUSE_MAX")  # noqa: F405
