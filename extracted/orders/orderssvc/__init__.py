# Loaded with Django, so that @shared_task (strangler's relay and consumers included) binds to it.
from .celery import app as celery_app

__all__ = ["celery_app"]
