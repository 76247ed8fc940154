"""The Django settings mypy's django-stubs plugin loads to type-check the framework: its own
apps only, nothing of the example shop."""

SECRET_KEY = "type-checking-only"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.admin",
    "rest_framework",
    "strangler",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
# What the chassis (strangler.service.backend) sets for every backend and the framework reads.
CELERY_BROKER_URL = "memory://"
JWT_PRIVATE_KEY = ""
JWT_PRIVATE_KEY_FILE = ""
JWT_ISSUER = "type-checking"
JWT_ACCESS_TTL_SECONDS = 300
