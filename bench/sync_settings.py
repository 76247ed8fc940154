"""The monolith's settings for the sync benchmark: a cheap password hasher first.

The HTTP loads register users and log them in; with the production hasher (Argon2id, about
30 ms of CPU a hash) those few requests would measure the hasher, not the sync, on a machine of
two cores. Hashes already stored with another hasher (the backfilled users' PBKDF2) still verify.
The bench runs the monolith's gunicorn, consumers and relay, and its in-process generator, on
this module (DJANGO_SETTINGS_MODULE=bench.sync_settings).
"""

from shop.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# An experiment, off unless the bench is run with --consumer-db-reuse: Celery's Django fixup
# closes the database connection before and after every task unless CELERY_DB_REUSE_MAX is set,
# so each sync message a consumer applies opens a new PostgreSQL connection.
if env.int("BENCH_CELERY_DB_REUSE_MAX", default=0):  # noqa: F405
    CELERY_DB_REUSE_MAX = env.int("BENCH_CELERY_DB_REUSE_MAX")  # noqa: F405
