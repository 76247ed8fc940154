"""The monolith's settings for the sync benchmark, with one change: a cheap password hasher.

A registration with the production hasher (PBKDF2, 1,000,000 iterations) costs about 0.3 s of
CPU, so 20 registrations/s would need 6 cores; on a 2-core machine the write load would measure
the hasher, not the sync. The bench selects this module (DJANGO_SETTINGS_MODULE) unless it is
run with --production-hasher.
"""

from shop.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
