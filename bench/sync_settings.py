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
